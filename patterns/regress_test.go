package patterns

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// Regression tests for bugs found in review.

// A panic in the exchange's middleware reaches the client as the crash, at
// once, not as a timeout.
func TestPanicInMiddlewareReachesClient(t *testing.T) {
	n := node(t, "a@localhost", false)
	startExchange(t, n, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin, Middleware: []exchange.Middleware{
		func(r *exchange.Request, next func(*exchange.Request) error) error {
			if str(r.Msg) == "boom" {
				panic("middleware bug")
			}
			return next(r)
		},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := NewClient(n).Call(ctx, exchange.Named("x"), wrapperspb.String("boom"))
	var pe *actor.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want the crash", err)
	}
	// At once: as an answer, well before the call's 30 s deadline.
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("crash reported after %v, not at once (deadline 30 s)", d)
	}
}

// A Request that fails to go out returns the error and nothing else: no
// Response arrives later for it.
func TestFailedRequestDeliversNothing(t *testing.T) {
	a, b := node(t, "a@localhost", true), node(t, "b@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "x"})
	got := make(chan any, 2)
	pid, err := a.Spawn(ctxT(t), &probe{got: got})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = Request(ctx, a, exchange.At(b.Address(), "x"), "t", "not a protobuf message", pid)
	if !errors.Is(err, actor.ErrNotSerializable) {
		t.Fatalf("err = %v", err)
	}
	<-ctx.Done()
	// Had the failed request stayed registered, the node's sweeper would
	// time it out into a Response to the probe. Markers prove it did not,
	// without guessing how long a sweep takes: a marker is a request to the
	// probe that nobody answers, registered after the failed request's
	// deadline, so the sweep pass that times it out would also time out the
	// failed request (in that pass or an earlier one). A second marker,
	// registered once the first arrived, is timed out by a later pass of
	// the same goroutine, so all of the first pass is in the probe's
	// mailbox ahead of it.
	for _, marker := range []string{"marker 1", "marker 2"} {
		mctx, mcancel := context.WithTimeout(context.Background(), time.Millisecond)
		_, err := a.ExpectReply(mctx, b.Address(), pid, func(any, error) any { return marker })
		mcancel()
		if err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m != marker {
				t.Fatalf("a failed request delivered %v", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s not timed out by the sweeper within 10 s", marker)
		}
	}
}

type probe struct {
	actor.BaseServer
	got chan any
}

func (p *probe) HandleCall(*actor.Process, any) (any, error) { return nil, nil }
func (p *probe) HandleInfo(_ *actor.Process, m any)          { p.got <- m }

// CallAll keeps a controller's error that overtakes the exchange's count.
func TestCallAllKeepsEarlyErrors(t *testing.T) {
	n := node(t, "a@localhost", false)
	startExchange(t, n, exchange.Spec{Name: "x"})
	ctrl(t, n, exchange.Named("x"), "c1", "", "")
	ctrl(t, n, exchange.Named("x"), "c2", "", "")
	replies, err := NewClient(n).CallAll(ctxT(t), exchange.Named("x"), wrapperspb.String("panic"))
	if err != nil {
		t.Fatalf("CallAll = %v", err)
	}
	if len(replies) != 2 || replies[0].Err == nil || replies[1].Err == nil {
		t.Fatalf("replies %+v; want two crash errors", replies)
	}
	if _, err := NewClient(n).CallAll(ctxT(t), exchange.Named("nope"), wrapperspb.String("x")); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("CallAll to no exchange = %v", err)
	}
	startExchange(t, n, exchange.Spec{Name: "empty"})
	if _, err := NewClient(n).CallAll(ctxT(t), exchange.Named("empty"), wrapperspb.String("x")); !errors.Is(err, exchange.ErrNoController) {
		t.Fatalf("CallAll to no controller = %v", err)
	}
}
