// Package storage is the segment and asset store of vodfleet.
//
// Objects are immutable byte blobs addressed by a slash-separated path such
// as "sources/<id>", "staging/<task>/<attempt>/<file>" or
// "assets/<asset>/<dir>/<file>". Content lives in blob files written through a
// BlobStore (local files by default); a Badger index maps each path to its
// blob and metadata (see keys.go for the key layout). Because the index is
// the only thing that names a blob, a whole staging prefix can be published
// into an asset in one index transaction: readers see either none or all of
// a task's outputs, never a partial set.
//
// The index also keeps one record per asset (object count, bytes, update
// time, node), written in the same transaction as the objects, so
// ListAssets is exact and DeleteAsset removes a whole asset atomically. A
// background Sweep deletes staging outputs never published within
// Config.StagingMaxAge and blobs no index entry references (crash
// leftovers) once older than Config.OrphanGrace; Open removes temp files of
// blob writes a crash interrupted.
//
// The Store is served over gRPC (NewGRPCServer) for agents and the CLI, and
// over plain HTTP (NewHTTPHandler) as the origin the edge pulls from. Client
// wraps the gRPC API with the file- and paging-level helpers callers need.
package storage
