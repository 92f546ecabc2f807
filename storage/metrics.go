package storage

import (
	"errors"
	"strings"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// storeStats are counters the Store and its servers bump; RegisterMetrics
// exports them. Plain atomics, so counting costs one add on hot paths.
type storeStats struct {
	putBytes, putObjects                 atomic.Uint64
	getBytesHTTP, getBytesGRPC           atomic.Uint64
	publishes, publishedObjects          atomic.Uint64
	sweeps, valueLogGCs                  atomic.Uint64
	sweptStaging, sweptOrphans, sweptTmp atomic.Uint64
	sweptBytes                           atomic.Uint64
	integrityFailures                    atomic.Uint64
}

// noteCorrupt counts err when it reports corrupt content, and returns it.
func (s *Store) noteCorrupt(err error) error {
	if errors.Is(err, ErrCorrupt) {
		s.stats.integrityFailures.Add(1)
	}
	return err
}

// RegisterMetrics registers the store's Prometheus metrics with r (a
// per-node registry). Counters are read from storeStats; the per-area
// gauges come from an index scan at scrape time (see AreaUsage). The names
// are a contract with dashboards (README "Observability").
func (s *Store) RegisterMetrics(r prometheus.Registerer) error {
	counter := func(name, help string, v *atomic.Uint64, labels prometheus.Labels) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v.Load()) })
	}
	st := &s.stats
	for _, c := range []prometheus.Collector{
		counter("vodfleet_storage_put_bytes_total", "Bytes stored by uploads.", &st.putBytes, nil),
		counter("vodfleet_storage_put_objects_total", "Objects stored by uploads.", &st.putObjects, nil),
		counter("vodfleet_storage_get_bytes_total", "Object bytes read by clients, by protocol.", &st.getBytesHTTP, prometheus.Labels{"protocol": "http"}),
		counter("vodfleet_storage_get_bytes_total", "Object bytes read by clients, by protocol.", &st.getBytesGRPC, prometheus.Labels{"protocol": "grpc"}),
		counter("vodfleet_storage_publishes_total", "Successful publishes (staging moved into an asset).", &st.publishes, nil),
		counter("vodfleet_storage_published_objects_total", "Objects moved into assets by publishes.", &st.publishedObjects, nil),
		counter("vodfleet_storage_gc_runs_total", "Garbage collection passes, by kind (sweep: staging, orphans, temp files; value_log: Badger value-log GC).", &st.sweeps, prometheus.Labels{"kind": "sweep"}),
		counter("vodfleet_storage_gc_runs_total", "Garbage collection passes, by kind (sweep: staging, orphans, temp files; value_log: Badger value-log GC).", &st.valueLogGCs, prometheus.Labels{"kind": "value_log"}),
		counter("vodfleet_storage_gc_deleted_total", "Garbage removed by sweeps, by what: staging objects, orphan blobs, temp files.", &st.sweptStaging, prometheus.Labels{"what": "staging_object"}),
		counter("vodfleet_storage_gc_deleted_total", "Garbage removed by sweeps, by what: staging objects, orphan blobs, temp files.", &st.sweptOrphans, prometheus.Labels{"what": "orphan_blob"}),
		counter("vodfleet_storage_gc_deleted_total", "Garbage removed by sweeps, by what: staging objects, orphan blobs, temp files.", &st.sweptTmp, prometheus.Labels{"what": "temp_file"}),
		counter("vodfleet_storage_gc_freed_bytes_total", "Content bytes freed by sweeps.", &st.sweptBytes, nil),
		counter("vodfleet_storage_integrity_failures_total", "Reads that found stored content not matching its recorded size or SHA-256 (or its blob missing).", &st.integrityFailures, nil),
		areaCollector{s},
	} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Area is the usage of one top-level path area ("assets", "staging",
// "sources").
type Area struct {
	// Objects and Bytes count the objects under the area and their size.
	Objects, Bytes int64
}

// AreaUsage returns the objects and bytes per top-level area. Assets are
// summed from the asset records (one read per asset); the other areas,
// transient by nature, by scanning their object keys.
func (s *Store) AreaUsage() (map[string]Area, error) {
	out := map[string]Area{}
	err := s.view(func(txn *badger.Txn) error {
		out = map[string]Area{"assets": {}, "staging": {}}
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte(objectPrefix)})
		defer it.Close()
		skipAssets := []byte(objectPrefix + strings.TrimSuffix(assetsDir, "/") + "0") // just past "o/assets/"
		for it.Rewind(); it.Valid(); it.Next() {
			path := pathFromObjectKey(it.Item().Key())
			if strings.HasPrefix(path, assetsDir) {
				it.Seek(skipAssets)
				if !it.Valid() {
					break
				}
				path = pathFromObjectKey(it.Item().Key())
			}
			obj, err := itemObject(it.Item(), path)
			if err != nil {
				return err
			}
			area, _, _ := strings.Cut(path, "/")
			a := out[area]
			a.Objects++
			a.Bytes += obj.Size
			out[area] = a
		}
		ait := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte(assetPrefix)})
		defer ait.Close()
		a := out["assets"]
		for ait.Rewind(); ait.Valid(); ait.Next() {
			id := idFromAssetKey(ait.Item().Key())
			var rec assetRecord
			if err := ait.Item().Value(func(v []byte) error {
				var err error
				rec, err = decodeAssetRecord(id, v)
				return err
			}); err != nil {
				return err
			}
			a.Objects += rec.Objects
			a.Bytes += rec.Bytes
		}
		out["assets"] = a
		return nil
	})
	return out, err
}

var (
	areaBytesDesc = prometheus.NewDesc("vodfleet_storage_bytes",
		"Bytes stored per area (assets, staging, sources).", []string{"area"}, nil)
	areaObjectsDesc = prometheus.NewDesc("vodfleet_storage_objects",
		"Objects stored per area (assets, staging, sources).", []string{"area"}, nil)
)

// areaCollector exports AreaUsage at scrape time.
type areaCollector struct{ s *Store }

// Describe implements prometheus.Collector.
func (c areaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- areaBytesDesc
	ch <- areaObjectsDesc
}

// Collect implements prometheus.Collector.
func (c areaCollector) Collect(ch chan<- prometheus.Metric) {
	usage, err := c.s.AreaUsage()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(areaBytesDesc, err)
		return
	}
	for area, u := range usage {
		ch <- prometheus.MustNewConstMetric(areaBytesDesc, prometheus.GaugeValue, float64(u.Bytes), area)
		ch <- prometheus.MustNewConstMetric(areaObjectsDesc, prometheus.GaugeValue, float64(u.Objects), area)
	}
}
