package exchange

import (
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
)

// keyTable is an exchange's memory of keyed requests: for each key a run
// in flight with the requests waiting for it, or the outcome it had, kept
// for the window. Pure logic, on the exchange's goroutine, with the time
// given by the caller; keyed.go carries its decisions out.
//
// Outcomes are kept in the order they came, which is the order their
// windows end (the window is one for all), so that expiry and eviction
// both take the oldest: fifo holds exactly the entries that have an
// outcome.
type keyTable struct {
	bound Idempotency
	byKey map[string]*keyEntry
	fifo  []*keyEntry // outcomes, oldest first from head
	head  int
	bytes int
	runs  uint64 // the last run id given
	base  uint64 // attempts count from it: the table's start, in unix nanoseconds
	stats KeyStats
}

type keyEntry struct {
	key   string
	print uint64 // the request's fingerprint: a duplicate has the same
	size  int    // what it counts in keyTable.bytes

	// A run in flight.
	running bool
	run     uint64        // its id: a reply of an earlier run is not its
	req     *Request      // the request, run again for a waiting duplicate
	to      Member        // the controller it went to
	runRT   actor.ReplyTo // the exchange's own request to that controller
	waiters []keyWaiter   // the requests to answer: the first and its duplicates
	reruns  int

	// The outcome.
	val  any
	err  error
	done time.Time
}

// keyWaiter is a request waiting for a key's run.
type keyWaiter struct {
	rt       actor.ReplyTo
	deadline time.Time
}

// arrival is what a keyed request's arrival asks the exchange to do.
type arrival int

const (
	keyRun      arrival = iota // a new key: route and run it (start), or abandon it
	keyJoin                    // a duplicate now waiting for the run in flight
	keyReplay                  // a duplicate: answer with the entry's outcome
	keyConflict                // the key is in the window with another fingerprint
	keyFull                    // no room: refuse
)

// Fixed costs counted in bytes: an entry (struct, map slot, strings'
// headers) and a waiting request.
const (
	keyCost    = 256
	waiterCost = 48
	maxWaiters = 64 // duplicates waiting for one run
	maxReruns  = 4  // runs again after a timeout, for one key
)

func newKeyTable(bound Idempotency, start time.Time) *keyTable {
	bound.defaults()
	return &keyTable{bound: bound, byKey: map[string]*keyEntry{}, base: uint64(start.UnixNano())}
}

// attempt is the fencing token of run: it grows with every run, of any
// key, and with the table's start (see Request.Attempt).
func (t *keyTable) attempt(run uint64) uint64 { return t.base + run }

// arrive registers a keyed request w with fingerprint print at now.
func (t *keyTable) arrive(key string, print uint64, w keyWaiter, now time.Time) (*keyEntry, arrival) {
	t.expire(now)
	if e, ok := t.byKey[key]; ok {
		switch {
		case e.print != print:
			t.stats.Conflicts++
			return e, keyConflict
		case !e.running:
			t.stats.Replayed++
			return e, keyReplay
		}
		t.prune(e, now)
		if len(e.waiters) >= maxWaiters || !t.room(waiterCost, false) {
			t.stats.Refused++
			return e, keyFull
		}
		e.waiters = append(e.waiters, w)
		e.size += waiterCost
		t.bytes += waiterCost
		t.stats.Joined++
		return e, keyJoin
	}
	cost := keyCost + len(key) + waiterCost
	if !t.room(cost, true) {
		t.stats.Refused++
		return nil, keyFull
	}
	e := &keyEntry{key: key, print: print, size: cost, running: true, waiters: []keyWaiter{w}}
	t.byKey[key] = e
	t.bytes += cost
	return e, keyRun
}

// start records that e's request runs on controller to, and returns the
// run's id.
func (t *keyTable) start(e *keyEntry, req *Request, to Member) uint64 {
	t.runs++
	e.run, e.req, e.to = t.runs, req, to
	t.stats.Runs++
	return e.run
}

// abandon forgets a key whose first request did not run (no controller,
// a redirect to another exchange, a rejection).
func (t *keyTable) abandon(e *keyEntry) {
	if t.byKey[e.key] == e && e.running {
		delete(t.byKey, e.key)
		t.bytes -= e.size
	}
}

// finish takes the answer of run to key at now. An outcome is remembered
// and every waiting request answered with it. An answer that is no
// outcome (see isOutcome) is not: the requests answered with it are
// returned, and rerun reports that duplicates still wait and the request
// should run again (after a timeout only; timedOut says it was one) with
// e's latest deadline. A stale answer (of an earlier run) returns nil.
func (t *keyTable) finish(key string, run uint64, val any, err error, outcome, timedOut bool, now time.Time) (e *keyEntry, answer []keyWaiter, rerun bool) {
	e = t.byKey[key]
	if e == nil || !e.running || e.run != run {
		return nil, nil, false
	}
	if !outcome {
		if timedOut && e.reruns < maxReruns {
			answer = t.prune(e, now)
			if len(e.waiters) > 0 {
				e.reruns++
				t.stats.Reruns++
				return e, answer, true
			}
		}
		answer = append(answer, e.waiters...)
		delete(t.byKey, key)
		t.bytes -= e.size
		return e, answer, false
	}
	answer = e.waiters
	e.running, e.req, e.waiters, e.runRT = false, nil, nil, actor.ReplyTo{}
	e.val, e.err, e.done = val, err, now
	t.bytes -= e.size
	e.size = keyCost + len(key) + replySize(val, err)
	if !t.room(e.size, false) {
		delete(t.byKey, key) // larger than the bound on its own
		t.stats.Evicted++
		return e, answer, false
	}
	t.bytes += e.size
	t.fifo = append(t.fifo, e)
	return e, answer, false
}

// latest is the latest deadline of e's waiting requests.
func (e *keyEntry) latest() time.Time {
	var d time.Time
	for _, w := range e.waiters {
		if w.deadline.After(d) {
			d = w.deadline
		}
	}
	return d
}

// prune drops and returns the waiting requests of e whose deadline has
// passed: nobody waits for their answer any more.
func (t *keyTable) prune(e *keyEntry, now time.Time) (gone []keyWaiter) {
	kept := e.waiters[:0]
	for _, w := range e.waiters {
		if !w.deadline.IsZero() && !now.Before(w.deadline) {
			gone = append(gone, w)
			continue
		}
		kept = append(kept, w)
	}
	clear(e.waiters[len(kept):])
	e.waiters = kept
	e.size -= waiterCost * len(gone)
	t.bytes -= waiterCost * len(gone)
	return gone
}

// expire forgets the outcomes whose window ended by now.
func (t *keyTable) expire(now time.Time) {
	for t.head < len(t.fifo) && !now.Before(t.fifo[t.head].done.Add(t.bound.Window)) {
		t.drop()
		t.stats.Expired++
	}
}

// room makes room for n more bytes, and a key more if slot, by forgetting
// the oldest outcomes; false if runs in flight alone leave none.
func (t *keyTable) room(n int, slot bool) bool {
	for (slot && len(t.byKey)+1 > t.bound.MaxKeys) || t.bytes+n > t.bound.MaxBytes {
		if t.head == len(t.fifo) {
			return false
		}
		t.drop()
		t.stats.Evicted++
	}
	return true
}

// drop forgets the oldest outcome.
func (t *keyTable) drop() {
	e := t.fifo[t.head]
	t.fifo[t.head] = nil
	t.head++
	if t.byKey[e.key] == e {
		delete(t.byKey, e.key)
		t.bytes -= e.size
	}
	if t.head == len(t.fifo) {
		t.fifo, t.head = t.fifo[:0], 0
	} else if t.head >= 1024 && t.head*2 >= len(t.fifo) {
		n := copy(t.fifo, t.fifo[t.head:])
		clear(t.fifo[n:])
		t.fifo, t.head = t.fifo[:n], 0
	}
}

// inFlight lists the entries in flight.
func (t *keyTable) inFlight() []*keyEntry {
	var out []*keyEntry
	for _, e := range t.byKey {
		if e.running {
			out = append(out, e)
		}
	}
	return out
}

// snapshot is the counters with what the table holds now.
func (t *keyTable) snapshot() KeyStats {
	s := t.stats
	s.Keys, s.Bytes = uint64(len(t.byKey)), uint64(t.bytes)
	return s
}

// replySize is what a remembered reply counts: its protobuf size, or its
// error's text.
func replySize(val any, err error) int {
	n := 0
	if m, ok := val.(proto.Message); ok {
		n += proto.Size(m)
	}
	if err != nil {
		n += len(err.Error())
	}
	return n
}
