package coordinator

import (
	"context"
	"time"
)

// Group commit. Handlers on the leader loop never wait for etcd: they
// stage writes (and, for what must only happen once the writes are
// durable, after-commit callbacks: sending grants, answering RPCs,
// publishing outputs). After each burst of events the loop commits
// everything staged in as few fenced transactions as possible, then runs
// the callbacks. Many agents' reports thus share one etcd round trip.
//
// Writes staged by one call form a group that always commits atomically;
// groups touching the same key are merged, so a record written twice in a
// burst is written once, with its latest content and first expected
// revision.

// maxTxnOps keeps a commit under etcd's default limit of 128 operations
// per transaction (compares count too).
const maxTxnOps = 120

// writeGroup is the writes of one stage call (after merging).
type writeGroup struct {
	writes []write
	keys   map[string]int // key -> index in writes
}

// stage queues writes as one atomic group.
func (l *leader) stage(ws ...write) {
	if l.failed != nil || len(ws) == 0 {
		return
	}
	g := &writeGroup{keys: map[string]int{}}
	for _, w := range ws {
		if other := l.stagedKeys[w.key]; other != nil && other != g {
			l.mergeGroup(g, other)
		}
		g.add(w)
		l.stagedKeys[w.key] = g
	}
	l.staged = append(l.staged, g)
}

// mergeGroup moves other's writes into g and drops other.
func (l *leader) mergeGroup(g, other *writeGroup) {
	for _, w := range other.writes {
		g.add(w)
		l.stagedKeys[w.key] = g
	}
	for i, x := range l.staged {
		if x == other {
			l.staged = append(l.staged[:i], l.staged[i+1:]...)
			break
		}
	}
}

// add puts w in the group; a second write of a key keeps the first
// expected revision and the latest content, and both revision pointers.
func (g *writeGroup) add(w write) {
	if i, ok := g.keys[w.key]; ok {
		prev := g.writes[i]
		w.expectRev = prev.expectRev
		w.revs = append(prev.revs, w.revs...)
		g.writes[i] = w
		return
	}
	g.keys[w.key] = len(g.writes)
	g.writes = append(g.writes, w)
}

// afterCommit runs f once everything staged so far is durable. If the
// commit fails, f never runs (the leader steps down).
func (l *leader) afterCommit(f func()) {
	l.callbacks = append(l.callbacks, f)
}

// commit writes everything staged, then runs the callbacks. It reports
// false (with l.failed set) when a transaction failed.
func (l *leader) commit() bool {
	if l.failed != nil {
		return false
	}
	groups := l.staged
	l.staged, l.stagedKeys = nil, map[string]*writeGroup{}
	for len(groups) > 0 {
		var chunk []write
		n := 0
		for n < len(groups) && (len(chunk) == 0 || 2*(len(chunk)+len(groups[n].writes)) <= maxTxnOps) {
			chunk = append(chunk, groups[n].writes...)
			n++
		}
		groups = groups[n:]
		ctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
		rev, err := l.store.apply(ctx, l.fence, chunk...)
		cancel()
		if err != nil {
			l.failed = err
			return false
		}
		for _, w := range chunk {
			for _, r := range w.revs {
				*r = rev
			}
		}
	}
	cbs := l.callbacks
	l.callbacks = nil
	for _, f := range cbs {
		f()
	}
	return l.failed == nil
}

// settle schedules and commits until nothing is left staged (callbacks may
// stage more, e.g. a publish records itself).
func (l *leader) settle() {
	for i := 0; i < 8 && l.failed == nil; i++ {
		l.schedule()
		if len(l.staged) == 0 && len(l.callbacks) == 0 {
			return
		}
		if !l.commit() {
			return
		}
	}
}
