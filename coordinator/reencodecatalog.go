package coordinator

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// reencodeCatalogWrites are the catalog writes of a succeeded reencode
// job: the record's pipeline part from the job (renditions kept and new,
// outputs, sizes), keeping the record's destination states, since a
// reencode pushes nowhere (a later `vodfleet transfer` updates them). The
// current facts are read on the loop, as repushCatalogWrites does; if they
// cannot be read the destinations are kept out rather than the write
// dropped.
func (l *leader) reencodeCatalogWrites(jr *jobRecord) []write {
	ws := l.catalogWrites(jr)
	facts, ok := ws[0].msg.(*v1.Asset)
	if !ok {
		return ws
	}
	ctx, cancel := context.WithTimeout(l.ctx, 5*time.Second)
	defer cancel()
	resp, err := l.store.cli.Get(ctx, l.catalogKeys.Facts(jr.job.GetAssetId()))
	if err != nil || len(resp.Kvs) == 0 {
		l.log.Warn("reencode: previous asset record unreadable, destination states not kept", "asset", jr.job.GetAssetId(), "error", err)
		return ws
	}
	old := &v1.Asset{}
	if err := proto.Unmarshal(resp.Kvs[0].Value, old); err != nil {
		l.log.Warn("reencode: undecodable asset record, destination states not kept", "asset", jr.job.GetAssetId(), "error", err)
		return ws
	}
	facts.Destinations = old.GetDestinations()
	if old.GetCreatedAt() != nil {
		facts.CreatedAt = old.GetCreatedAt()
	}
	return ws
}
