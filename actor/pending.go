package actor

import (
	"math/rand/v2"
	"sync"
)

// pendingTable holds the calls of a node that wait for a reply: one reusable
// waiter per call in flight, keyed by request id, in shards so that
// concurrent callers rarely share a lock. Replies are matched by id; no
// process or future is created per call.
//
// A reply names no sender (an exchange's controller answers the client
// directly, a forwarder answers for a node that went down), so the id is
// what makes a reply the answer to a call: ids are random 64-bit numbers,
// not a sequence, and a peer that sees the ids of the calls sent to it
// learns nothing about the others. A forged reply matches a call in flight
// with a chance of (calls in flight) / 2^64.
type pendingTable struct {
	shards  [pendingShards]pendingShard
	pool    sync.Pool
	watches ctxWatches // of the contexts many calls share
}

const pendingShards = 64

type pendingShard struct {
	mu sync.Mutex
	m  map[uint64]*waiter
}

type waiter struct {
	ref      uint64
	addr     string      // the callee's node, to fail the call if it goes down
	deadline int64       // for the sweeper, in clock nanoseconds; 0: the caller watches its ctx
	ch       chan result // capacity 1: the one reply, or (multi) a wake-up
	watch    *ctxWatch   // fails the call when its context ends: Wait needs no select

	// multi waiters take any number of replies: they stay in the table
	// until released, and replies queue here.
	multi bool
	mu    sync.Mutex
	queue []result

	// fwd waiters hand their one reply to a process's mailbox, as
	// wrap(value, err), instead of to a goroutine.
	fwd  *Process
	wrap func(val any, err error) any
}

type result struct {
	val any
	err error
}

func (t *pendingTable) init() {
	for i := range t.shards {
		t.shards[i].m = map[uint64]*waiter{}
	}
	t.pool.New = func() any { return &waiter{ch: make(chan result, 1)} }
	t.watches.t = t
}

// add registers a call that takes one reply. With a watch, a call that
// registers while the watch's context ends, or the node stops, is failed
// here, if the watch (or failAll) did not find it.
func (t *pendingTable) add(addr string, deadline int64, watch *ctxWatch) *waiter {
	w := t.pool.Get().(*waiter)
	w.addr, w.deadline, w.watch = addr, deadline, watch
	t.insert(w)
	switch {
	case watch == nil:
	case watch.fired.Load():
		t.complete(w.ref, nil, ctxError(watch.ctx))
	case watch.stopped.Load(): // the node stopped: nothing else would end the call
		t.complete(w.ref, nil, ErrNodeStopped)
	}
	return w
}

// insert gives w a new request id and puts it in its shard. The id comes
// from the runtime's ChaCha8 generator (math/rand/v2's, seeded by the
// operating system, a few nanoseconds a call): unpredictable from the
// ids seen before it. 0 is no id (ReplyTo.IsZero), and an id in use is
// drawn again.
func (t *pendingTable) insert(w *waiter) *waiter {
	for {
		ref := rand.Uint64()
		if ref == 0 {
			continue
		}
		s := &t.shards[ref%pendingShards]
		s.mu.Lock()
		if _, taken := s.m[ref]; taken {
			s.mu.Unlock()
			continue
		}
		w.ref = ref
		s.m[ref] = w
		s.mu.Unlock()
		return w
	}
}

// addForward registers a waiter whose reply goes to p's mailbox.
func (t *pendingTable) addForward(addr string, deadline int64, p *Process, wrap func(any, error) any) *waiter {
	return t.insert(&waiter{addr: addr, deadline: deadline, fwd: p, wrap: wrap})
}

// addMulti registers a waiter that takes any number of replies.
func (t *pendingTable) addMulti(addr string) *waiter {
	w := t.pool.Get().(*waiter)
	w.addr, w.deadline, w.multi = addr, 0, true
	return t.insert(w)
}

// complete delivers the reply for ref; a reply for an unknown ref (the
// caller gave up) is dropped.
func (t *pendingTable) complete(ref uint64, val any, err error) {
	s := &t.shards[ref%pendingShards]
	s.mu.Lock()
	w := s.m[ref]
	if w != nil && w.fwd != nil {
		delete(s.m, ref)
		s.mu.Unlock()
		w.fwd.enqueue(w.wrap(val, err))
		return
	}
	if w != nil && w.multi {
		w.push(result{val, err}) // under the shard lock: release cannot recycle w meanwhile
		s.mu.Unlock()
		return
	}
	delete(s.m, ref)
	s.mu.Unlock()
	if w != nil {
		w.ch <- result{val, err}
	}
}

// push queues a reply of a multi waiter and wakes its reader.
func (w *waiter) push(r result) {
	w.mu.Lock()
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case w.ch <- result{}:
	default:
	}
}

// pop takes the next queued reply of a multi waiter.
func (w *waiter) pop() (result, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return result{}, false
	}
	r := w.queue[0]
	w.queue[0] = result{}
	w.queue = w.queue[1:]
	return r, true
}

// release returns w to the pool after its call ended. If w was still in the
// table, nobody will answer it; otherwise a reply is on its way and is
// drained first, so that a reused waiter never sees a stale reply.
func (t *pendingTable) release(w *waiter, answered bool) {
	if w.multi {
		s := &t.shards[w.ref%pendingShards]
		s.mu.Lock()
		delete(s.m, w.ref)
		s.mu.Unlock()
		w.multi, w.queue = false, nil
		select { // a stale wake-up must not reach the next user
		case <-w.ch:
		default:
		}
		t.pool.Put(w)
		return
	}
	if !answered {
		s := &t.shards[w.ref%pendingShards]
		s.mu.Lock()
		_, waiting := s.m[w.ref]
		delete(s.m, w.ref)
		s.mu.Unlock()
		if !waiting {
			<-w.ch
		}
	}
	w.watch = nil // out of the table: failIf reads it there only
	t.pool.Put(w)
}

// drop removes a forward waiter without delivering anything. Other kinds
// belong to a goroutine that releases them itself.
func (t *pendingTable) drop(ref uint64) {
	s := &t.shards[ref%pendingShards]
	s.mu.Lock()
	if w := s.m[ref]; w != nil && w.fwd != nil {
		delete(s.m, ref)
	}
	s.mu.Unlock()
}

// failAddr fails every call waiting on a process of the node at addr.
func (t *pendingTable) failAddr(addr string, err error) {
	t.failIf(func(w *waiter) bool { return w.addr == addr }, err)
}

// expire fails the calls whose sweeper deadline is before now.
func (t *pendingTable) expire(now int64, err error) {
	t.failIf(func(w *waiter) bool { return w.deadline != 0 && w.deadline < now }, err)
}

func (t *pendingTable) failAll(err error) {
	t.failIf(func(*waiter) bool { return true }, err)
}

func (t *pendingTable) failIf(match func(*waiter) bool, err error) {
	for i := range t.shards {
		s := &t.shards[i]
		var hit []*waiter
		s.mu.Lock()
		for ref, w := range s.m {
			if !match(w) {
				continue
			}
			if w.multi { // stays in the table until its owner releases it
				w.push(result{err: err})
				w.deadline = 0
				continue
			}
			delete(s.m, ref)
			hit = append(hit, w)
		}
		s.mu.Unlock()
		for _, w := range hit {
			if w.fwd != nil {
				w.fwd.enqueue(w.wrap(nil, err))
				continue
			}
			w.ch <- result{err: err}
		}
	}
}
