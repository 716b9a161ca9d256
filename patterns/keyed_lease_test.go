package patterns

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// TestKeyedRunPastItsLeaseIsSentAgain: a keyed run that waits in a
// remote controller's mailbox for longer than the exchange's lease (behind
// a handler that blocks) is not started when its turn comes: the
// controller answers ErrStale, the exchange sends it again with a fresh
// lease, and the handler runs once; the client gets that run's outcome and
// each run a larger attempt than the one before.
func TestKeyedRunPastItsLeaseIsSentAgain(t *testing.T) {
	const lease = 100 * time.Millisecond
	e, c := node(t, "e@localhost", true), node(t, "c@localhost", true)
	startExchange(t, e, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin, Idempotency: exchange.Idempotency{Lease: lease}})
	ex := exchange.At(e.Address(), "x")
	release := make(chan struct{})
	var runs atomic.Int32
	var attempts [3]atomic.Uint64
	events := make(chan any, 10)
	ctl := NewController(ex, func(ctx context.Context, req *exchange.Request) (any, error) {
		a, _ := Attempt(ctx)
		if str(req.Msg) == "block" {
			attempts[0].Store(a)
			<-release
			return wrapperspb.String("blocked"), nil
		}
		attempts[1+min(runs.Add(1)-1, 1)].Store(a)
		return wrapperspb.String(fmt.Sprint("ran ", a)), nil
	})
	ctl.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	if _, err := c.Spawn(ctxT(t), ctl); err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)
	cl := NewClient(node(t, "a@localhost", true))

	blocked := make(chan error, 1)
	go func() {
		_, err := cl.Call(ctxT(t), ex, wrapperspb.String("block"), WithIdempotencyKey("b"))
		blocked <- err
	}()
	awaitKeys(t, e, ex, "the blocking run", func(s exchange.KeyStats) bool { return s.Runs == 1 })
	done := make(chan string, 1)
	go func() {
		v, err := cl.Call(ctxT(t), ex, wrapperspb.String("charge"), WithIdempotencyKey("k"))
		done <- fmt.Sprint(str(v), " ", err)
	}()
	awaitKeys(t, e, ex, "the queued run", func(s exchange.KeyStats) bool { return s.Runs == 2 })
	queued := time.NewTimer(3 * lease) // the run's stay in the mailbox: the scenario, not a wait for it
	<-queued.C
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	got := recvWithin(t, done, "the queued call")
	s := awaitKeys(t, e, ex, "counters", func(exchange.KeyStats) bool { return true })
	if runs.Load() != 1 || s.Stale < 1 || s.Runs < 3 {
		t.Fatalf("the handler ran %d times (want 1); stats %+v; the call %q", runs.Load(), s, got)
	}
	if want := fmt.Sprint("ran ", attempts[1].Load(), " <nil>"); got != want || attempts[1].Load() <= attempts[0].Load() {
		t.Fatalf("the call: %q, want %q; attempts %d then %d", got, want, attempts[0].Load(), attempts[1].Load())
	}
}
