package actor

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"
)

// ctxWatches lets the calls that share a context wait for their replies
// on their own channel alone, without a select that also waits on the
// context's Done channel: with 100 callers on one context, that select
// locked the one shared channel twice per call and queued every caller
// on it, a tenth of an in-node request's CPU.
//
// A context whose Done channel a node sees in watchAfter calls in a row
// (in its slot of a small table: contexts of one request each, that make
// a few calls, never get there) gets a watch: one context.AfterFunc that,
// when the context ends, fails with its error every call of the node
// waiting under that channel, as the select did. Contexts that share a
// Done channel (WithValue's) share its watch: their Err is the same. A
// watch lives until its context ends, or the node stops; at most one per
// slot, so that contexts that never end hold watchSlots at most, and the
// others select as before.
type ctxWatches struct {
	slots [watchSlots]watchSlot
	t     *pendingTable

	mu     sync.Mutex // promote and close
	closed bool
}

const (
	watchSlots = 64
	watchAfter = 16 // calls on one Done channel before it gets a watch
)

type watchSlot struct {
	seen  atomic.Uintptr // the Done channel counted here, by address (identity only: no reference)
	count atomic.Uint32  // calls seen on it, about: racing counts only move when a watch starts
	w     atomic.Pointer[ctxWatch]
}

// ctxWatch is the AfterFunc of one context, for the calls waiting on it.
type ctxWatch struct {
	done     <-chan struct{}
	ctx      context.Context
	fired    atomic.Bool   // set before the waiters are failed
	stopped  atomic.Bool   // by close, before the node fails every call
	stop     func() bool   // AfterFunc's
	finished chan struct{} // closed once the waiters are failed
}

func chanAddr(c <-chan struct{}) uintptr { return *(*uintptr)(unsafe.Pointer(&c)) }

// get returns the watch of ctx, whose Done channel is done, or nil if the
// call must select on done itself (and counts the call toward a watch).
func (ws *ctxWatches) get(ctx context.Context, done <-chan struct{}) *ctxWatch {
	a := chanAddr(done)
	s := &ws.slots[(uint64(a)*0x9E3779B97F4A7C15)>>(64-6)]
	if w := s.w.Load(); w != nil {
		if w.done == done {
			return w
		}
		return nil // the slot is another context's
	}
	if s.seen.Load() != a {
		s.seen.Store(a)
		s.count.Store(1)
		return nil
	}
	if s.count.Add(1) < watchAfter {
		return nil
	}
	return ws.promote(s, ctx, done)
}

// promote starts the watch of ctx in slot s.
func (ws *ctxWatches) promote(s *watchSlot, ctx context.Context, done <-chan struct{}) *ctxWatch {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed || ctx.Err() != nil {
		return nil
	}
	if w := s.w.Load(); w != nil {
		if w.done == done {
			return w
		}
		return nil
	}
	w := &ctxWatch{done: done, ctx: ctx, finished: make(chan struct{})}
	s.w.Store(w)
	w.stop = context.AfterFunc(ctx, func() { ws.fire(s, w) })
	return w
}

// fire fails the calls waiting under w, its context having ended. The
// watch stays in its slot until then, so that close waits for it.
func (ws *ctxWatches) fire(s *watchSlot, w *ctxWatch) {
	w.fired.Store(true) // calls registering from here on fail themselves (see Node.NewPending)
	ws.t.failIf(func(x *waiter) bool { return x.watch == w }, ctxError(w.ctx))
	s.seen.Store(0)
	s.w.CompareAndSwap(w, nil)
	close(w.finished)
}

// close stops every watch, and returns once those that had fired are
// done: no AfterFunc of the node runs after it. A call that still gets a
// stopped watch fails with ErrNodeStopped (see pendingTable.add); the
// node fails those already waiting right after.
func (ws *ctxWatches) close() {
	ws.mu.Lock()
	ws.closed = true
	var running []*ctxWatch
	for i := range ws.slots {
		s := &ws.slots[i]
		if w := s.w.Load(); w != nil {
			w.stopped.Store(true)
			if !w.stop() {
				running = append(running, w)
			}
			s.w.CompareAndSwap(w, nil)
		}
	}
	ws.mu.Unlock()
	for _, w := range running {
		<-w.finished
	}
}
