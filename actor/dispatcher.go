package actor

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// dispatcher is protoactor's Dispatcher for the node's mailboxes: it runs
// their runs (protoactor's loop over a mailbox's messages, scheduled when
// an idle mailbox gets one). protoactor's default starts a
// goroutine per mailbox run, and each new goroutine grows its stack again
// through the receive chain (half the cost of a Call round trip, measured).
// Here finished runs park their goroutine as an idle worker, up to maxIdle;
// a run is handed to an idle worker if there is one and gets a new goroutine
// otherwise, so a handler that blocks (in a nested Call, say) never starves
// the others. The node owns the workers: stop releases the idle ones and
// wait returns when every worker has ended.
type dispatcher struct {
	work    chan func() // unbuffered: a send succeeds only into an idle worker
	stop    chan struct{}
	idle    atomic.Int32
	maxIdle int32
	wg      sync.WaitGroup
}

// throughput is how many messages a mailbox's run handles before it yields
// the processor (protoactor's run calls runtime.Gosched, and goes on).
const throughput = 300

func newDispatcher() *dispatcher {
	return &dispatcher{
		work:    make(chan func()),
		stop:    make(chan struct{}),
		maxIdle: int32(4 * runtime.GOMAXPROCS(0)),
	}
}

func (d *dispatcher) Throughput() int { return throughput }

func (d *dispatcher) Schedule(fn func()) {
	select {
	case d.work <- fn:
	default:
		d.wg.Add(1)
		go d.worker(fn)
	}
}

func (d *dispatcher) worker(fn func()) {
	defer d.wg.Done()
	for {
		fn()
		if d.idle.Add(1) > d.maxIdle {
			d.idle.Add(-1)
			return
		}
		select {
		case fn = <-d.work:
			d.idle.Add(-1)
		case <-d.stop:
			d.idle.Add(-1)
			return
		}
	}
}

// close releases the idle workers; busy ones end after their current run.
func (d *dispatcher) close() { close(d.stop) }

// wait returns when every worker has ended, or ctx's error if a worker is
// still busy (in a handler that does not return) when ctx ends.
func (d *dispatcher) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
