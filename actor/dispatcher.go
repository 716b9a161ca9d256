package actor

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// dispatcher is protoactor's Dispatcher for the node's mailboxes: it runs
// their runs (protoactor's loop over a mailbox's messages, scheduled when
// an idle mailbox gets one). protoactor's default starts a goroutine per
// mailbox run, as Ergo starts one per wake-up of a process; each new
// goroutine grows its stack again through the receive chain (half the cost
// of a Call round trip, measured), and a fan-out that wakes thousands of
// processes at once starts thousands.
//
// Here a few workers run the runs, as Go's scheduler runs goroutines on a
// few threads. A run goes to an idle worker if one is parked, to a new
// worker while fewer than maxActive are busy, and otherwise into a run
// queue that every worker drains before it parks (up to maxIdle parked,
// the others end). So a burst of N scheduled mailboxes is run by about
// maxActive workers, and a mailbox that gets more messages while queued
// handles them all in its one run.
//
// A handler that blocks (in a nested Call, a Spawn, a slow computation)
// keeps its worker busy. That must not starve the others, so a watchdog
// (Go's sysmon, which retakes a processor held in a system call) looks at
// the queue every watchTick while runs wait there: when the oldest has
// waited a whole tick, it starts a worker for it, twice as many as the
// tick before if no queued run was taken meanwhile (every worker blocked),
// else one while fewer than 2 x maxActive are busy (some may be blocked;
// more would only crowd a machine that is merely overloaded). The watchdog
// runs only while runs wait and ends when the queue is empty; an idle node
// has none.
//
// The node owns every goroutine here: close releases the parked workers,
// busy ones and the watchdog end once the queue is empty, and wait returns
// when all have ended.
type dispatcher struct {
	maxActive int
	maxIdle   int

	mu       sync.Mutex
	queue    runQueue
	idle     []*worker // parked workers, the last parked on top
	workers  int       // worker goroutines alive, parked or busy
	watching bool      // the watchdog goroutine is alive
	tick     uint64    // the watchdog's ticks so far
	taken    uint64    // queued runs taken by a worker so far
	started  uint64    // worker goroutines started so far
	closed   bool
	gone     bool          // ended is closed
	ended    chan struct{} // closed when closed and no goroutine is left
}

// worker is a worker goroutine's parking place: a parked worker waits on
// wake for its next run (nil: end).
type worker struct{ wake chan func() }

// throughput is how many messages a mailbox's run handles before it yields
// the processor (protoactor's run calls runtime.Gosched, and goes on).
const throughput = 300

// watchTick is how often the watchdog looks at the queue while runs wait:
// a run waits at most about two ticks for a worker when every worker is
// blocked in a handler.
const watchTick = time.Millisecond

// nudge is what wakes a parked worker to drain the queue.
func nudge() {}

func newDispatcher() *dispatcher {
	procs := runtime.GOMAXPROCS(0)
	return &dispatcher{
		maxActive: 4 * procs,
		maxIdle:   4 * procs,
		ended:     make(chan struct{}),
	}
}

func (d *dispatcher) Throughput() int { return throughput }

// Schedule implements protoactor's Dispatcher: fn runs on a worker.
func (d *dispatcher) Schedule(fn func()) {
	d.mu.Lock()
	queued := d.queue.len() > 0
	if queued {
		// Runs wait already: fn waits behind them (first in, first out);
		// an idle worker, or a new one, starts on the oldest.
		d.queue.push(fn, d.tick)
		fn = nudge
	}
	if n := len(d.idle); n > 0 {
		w := d.idle[n-1]
		d.idle[n-1] = nil
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		w.wake <- fn
		return
	}
	if d.workers-len(d.idle) < d.maxActive {
		d.workers++
		d.started++
		d.mu.Unlock()
		go d.work(&worker{wake: make(chan func(), 1)}, fn)
		return
	}
	if !queued {
		d.queue.push(fn, d.tick)
	}
	if !d.watching {
		d.watching = true
		go d.watch()
	}
	d.mu.Unlock()
}

// work runs fn, then queued runs until none waits, then parks or ends.
func (d *dispatcher) work(w *worker, fn func()) {
	for {
		fn()
		d.mu.Lock()
		if fn = d.queue.pop(); fn != nil {
			d.taken++
			d.mu.Unlock()
			continue
		}
		if d.closed || len(d.idle) >= d.maxIdle {
			d.workers--
			d.endedLocked()
			d.mu.Unlock()
			return
		}
		d.idle = append(d.idle, w)
		d.mu.Unlock()
		if fn = <-w.wake; fn == nil {
			d.mu.Lock()
			d.workers--
			d.endedLocked()
			d.mu.Unlock()
			return
		}
	}
}

// watch is the watchdog: while runs wait, it starts workers for those that
// waited a whole tick.
func (d *dispatcher) watch() {
	t := time.NewTicker(watchTick)
	defer t.Stop()
	grow, taken := 1, d.takenNow()
	for range t.C {
		d.mu.Lock()
		d.tick++
		if d.queue.len() == 0 {
			d.watching = false
			d.endedLocked()
			d.mu.Unlock()
			return
		}
		switch {
		case d.queue.waited(d.tick) < 2:
			grow = 1
		case d.taken == taken:
			// No queued run was taken for a whole tick: every worker is
			// blocked. Twice as many as last time, so that a pile of
			// blocked handlers is unblocked in a few ticks.
			grow = min(2*grow, d.queue.len())
			d.startLocked(grow)
		default:
			// Workers make progress, but the oldest run has waited a tick:
			// some may be blocked. One more, up to twice maxActive, so
			// that a machine merely overloaded does not pile up workers.
			grow = 1
			if d.workers-len(d.idle) < 2*d.maxActive {
				d.startLocked(1)
			}
		}
		taken = d.taken
		d.mu.Unlock()
	}
}

// startLocked starts n workers (at most one per queued run), each on the
// oldest queued run; d.mu is held.
func (d *dispatcher) startLocked(n int) {
	for range min(n, d.queue.len()) {
		d.workers++
		d.started++
		d.taken++
		go d.work(&worker{wake: make(chan func(), 1)}, d.queue.pop())
	}
}

func (d *dispatcher) takenNow() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.taken
}

// endedLocked closes ended once the dispatcher is closed and its last
// goroutine ends; d.mu is held.
func (d *dispatcher) endedLocked() {
	if d.closed && !d.gone && d.workers == 0 && !d.watching {
		d.gone = true
		close(d.ended)
	}
}

// close releases the parked workers; busy ones and the watchdog end once
// no run waits.
func (d *dispatcher) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.closed = true
	for _, w := range d.idle {
		w.wake <- nil
	}
	d.idle = nil
	d.endedLocked()
}

// wait returns when every worker and the watchdog have ended, or ctx's
// error if a worker is still busy (in a handler that does not return) when
// ctx ends.
func (d *dispatcher) wait(ctx context.Context) error {
	select {
	case <-d.ended:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
