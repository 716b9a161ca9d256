package actor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// hangServer answers "ok" at once and keeps every other call unanswered
// (deferred and dropped), telling held of each.
func hangServer(t *testing.T, n *Node, held chan<- struct{}) *PID {
	return spawn(t, n, &fn{call: func(p *Process, msg any) (any, error) {
		if msg == "ok" {
			return "ok", nil
		}
		p.DeferReply()
		held <- struct{}{}
		return nil, nil
	}})
}

// warm makes enough calls with ctx for the node to watch its context.
func warm(t *testing.T, n *Node, pid *PID, ctx context.Context) *ctxWatch {
	t.Helper()
	for i := 0; i < 2*watchAfter; i++ {
		if _, err := n.Call(ctx, pid, "ok"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n.pending.watches.slots {
		if w := n.pending.watches.slots[i].w.Load(); w != nil && w.done == ctx.Done() {
			return w
		}
	}
	t.Fatal("no watch for a context used by 32 calls in a row")
	return nil
}

// Calls that wait on a watched context all end with its error when it
// ends: cancelled, and past its deadline.
func TestWatchedContextEndsItsCalls(t *testing.T) {
	const callers = 50
	for _, c := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		end  func(context.CancelFunc)
		want []error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			func(cancel context.CancelFunc) { cancel() }, []error{context.Canceled}},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Hour)
		}, nil, []error{ErrTimeout, context.DeadlineExceeded}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newNode(t, Config{})
			held := make(chan struct{}, callers)
			pid := hangServer(t, n, held)
			ctx, cancel := c.ctx()
			defer cancel()
			if c.end == nil { // a deadline that ends once every call waits
				var short context.CancelFunc
				ctx, short = context.WithTimeout(context.Background(), 3*time.Second)
				defer short()
			}
			warm(t, n, pid, ctx)
			errs := make(chan error, callers)
			for range callers {
				go func() {
					_, err := n.Call(ctx, pid, "hang")
					errs <- err
				}()
			}
			for range callers {
				recv(t, held)
			}
			if c.end != nil {
				c.end(cancel)
			}
			for range callers {
				err := recv(t, errs)
				for _, want := range c.want {
					if !errors.Is(err, want) {
						t.Fatalf("call = %v; want %v", err, want)
					}
				}
			}
		})
	}
}

// Calls registering while their watched context is cancelled each end:
// the watch fails those it finds, the others fail themselves.
func TestWatchedContextCancelRacesCalls(t *testing.T) {
	n := newNode(t, Config{})
	pid := spawn(t, n, &fn{})
	ctx, cancel := context.WithCancel(context.Background())
	warm(t, n, pid, ctx)
	var wg sync.WaitGroup
	started := make(chan struct{}, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			for {
				if _, err := n.Call(ctx, pid, "ok"); err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("call = %v; want context.Canceled", err)
					}
					return
				}
			}
		}()
	}
	for range 8 {
		recv(t, started)
	}
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	closedWithin(t, done)
}

// Wait with another context than the Pending's own selects on it.
func TestWatchedPendingWaitsOnAnotherContext(t *testing.T) {
	n := newNode(t, Config{})
	pid := spawn(t, n, &fn{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	warm(t, n, pid, ctx)
	p := n.NewPending(ctx, n.Address(), false)
	defer p.Release()
	if p.w.watch == nil {
		t.Fatal("the pending has no watch")
	}
	other, stop := context.WithCancel(context.Background())
	stop()
	if _, err := p.Wait(other); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v; want context.Canceled", err)
	}
}

// A call that registers under a watch that has fired, and that the watch
// may have missed, fails itself with the context's error.
func TestCallUnderFiredWatchFails(t *testing.T) {
	n := newNode(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := &ctxWatch{done: ctx.Done(), ctx: ctx}
	w.fired.Store(true)
	x := n.pending.add(n.Address(), 0, w)
	select {
	case r := <-x.ch:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("reply = %v; want context.Canceled", r.err)
		}
	default:
		t.Fatal("no reply for a call under a fired watch")
	}
	n.pending.release(x, true)
}

// customCtx is a context that context.AfterFunc must watch with a
// goroutine of its own: it hides the cancelCtx it wraps.
type customCtx struct {
	context.Context
}

func (c customCtx) Value(any) any { return nil }

// Stop ends the node's watches (goleak checks AfterFunc's goroutine of a
// context of another type), and a context that ends later finds none.
func TestWatchesEndWithTheNode(t *testing.T) {
	n, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	pid := spawn(t, n, &fn{})
	inner, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx := customCtx{inner}
	warm(t, n, pid, ctx)
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopCancel()
	if err := n.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	for i := range n.pending.watches.slots {
		if n.pending.watches.slots[i].w.Load() != nil {
			t.Fatalf("slot %d still holds a watch after Stop", i)
		}
	}
	cancel()
}

// A context of one call does not get a watch.
func TestFewCallsGetNoWatch(t *testing.T) {
	n := newNode(t, Config{})
	pid := spawn(t, n, &fn{})
	for range 2 * watchAfter {
		ctx, cancel := context.WithCancel(context.Background())
		for range watchAfter / 2 {
			if _, err := n.Call(ctx, pid, "ok"); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
	}
	for i := range n.pending.watches.slots {
		if n.pending.watches.slots[i].w.Load() != nil {
			t.Fatalf("slot %d holds a watch", i)
		}
	}
}

// A Pending made under a watch while the node stops ends: the watch no
// longer fails it when its context ends, so the node does.
func TestWatchedPendingAfterStop(t *testing.T) {
	n, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	pid := spawn(t, n, &fn{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := warm(t, n, pid, ctx)
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopCancel()
	if err := n.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	x := n.pending.add(n.Address(), 0, w) // as NewPending that got w just before Stop
	p := Pending{n: n, w: x}
	got := make(chan error, 1)
	go func() {
		_, err := p.Wait(ctx)
		got <- err
	}()
	if err := recv(t, got); !errors.Is(err, ErrNodeStopped) {
		t.Fatalf("wait = %v; want ErrNodeStopped", err)
	}
}
