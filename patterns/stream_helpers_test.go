package patterns

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// streamCtrl starts a stream controller of ex on n with h and returns once
// the exchange has it.
func streamCtrl(t testing.TB, n *actor.Node, ex exchange.Address, h StreamHandler, tune ...func(*StreamController)) (*actor.PID, *StreamController) {
	t.Helper()
	events := make(chan any, 100)
	c := NewStreamController(ex, h)
	c.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	for _, f := range tune {
		f(c)
	}
	pid, err := n.Spawn(ctxT(t), c)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)
	return pid, c
}

// streamOneNode is a node with a RoundRobin exchange "s" and a stream
// controller running h.
func streamOneNode(t testing.TB, h StreamHandler, tune ...func(*StreamController)) (*Client, exchange.Address, *actor.PID) {
	n := node(t, "a@localhost", false)
	startExchange(t, n, exchange.Spec{Name: "s", Strategy: exchange.RoundRobin})
	pid, _ := streamCtrl(t, n, exchange.Named("s"), h, tune...)
	return NewClient(n), exchange.Named("s"), pid
}

// streamThreeNodes is a client node a, the exchange on b and the stream
// controller on c, over loopback.
func streamThreeNodes(t testing.TB, h StreamHandler, tune ...func(*StreamController)) (cl *Client, ex exchange.Address, pid *actor.PID, a, b, c *actor.Node) {
	a, b, c = node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "s", Strategy: exchange.RoundRobin})
	ex = exchange.At(b.Address(), "s")
	pid, _ = streamCtrl(t, c, ex, h, tune...)
	return NewClient(a), ex, pid, a, b, c
}

// topology runs f in one node and across three nodes.
func topology(t *testing.T, f func(t *testing.T, setup func(h StreamHandler, tune ...func(*StreamController)) (*Client, exchange.Address))) {
	t.Run("node", func(t *testing.T) {
		f(t, func(h StreamHandler, tune ...func(*StreamController)) (*Client, exchange.Address) {
			cl, ex, _ := streamOneNode(t, h, tune...)
			return cl, ex
		})
	})
	t.Run("nodes", func(t *testing.T) {
		f(t, func(h StreamHandler, tune ...func(*StreamController)) (*Client, exchange.Address) {
			cl, ex, _, _, _, _ := streamThreeNodes(t, h, tune...)
			return cl, ex
		})
	})
}

// counting sends n numbered chunks (forever if n < 0) and reports how the
// handler ended on done.
type counting struct {
	n       int
	sent    atomic.Int64
	done    chan ended
	started chan struct{}
}

type ended struct {
	err, cause, again error // send's error, ctx's cause, and a send after the failure
	ctxDone           bool
	sent              int64
}

func newCounting(n int) *counting {
	return &counting{n: n, done: make(chan ended, 1), started: make(chan struct{}, 1)}
}

func (c *counting) handler(ctx context.Context, _ *exchange.Request, send func(any) error) error {
	select {
	case c.started <- struct{}{}:
	default:
	}
	for i := 0; c.n < 0 || i < c.n; i++ {
		if err := send(wrapperspb.UInt64(uint64(i))); err != nil {
			e := ended{err: err, cause: context.Cause(ctx), ctxDone: ctx.Err() != nil, sent: c.sent.Load()}
			e.again = send(wrapperspb.UInt64(0))
			c.done <- e
			return err
		}
		c.sent.Add(1)
	}
	c.done <- ended{sent: c.sent.Load()}
	return nil
}

func (c *counting) wait(t testing.TB) ended {
	t.Helper()
	select {
	case e := <-c.done:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("the producer did not end")
		return ended{}
	}
}

// checkStopped asserts that a producer ended because its client stopped
// the stream with want as the cause, and could send nothing more.
func checkStopped(t testing.TB, e ended, want error) {
	t.Helper()
	if !errors.Is(e.err, want) || !errors.Is(e.cause, want) || !e.ctxDone {
		t.Fatalf("producer ended with send error %v, ctx cause %v, ctx done %v; want %v", e.err, e.cause, e.ctxDone, want)
	}
	if e.again == nil {
		t.Fatal("a send after the stream stopped succeeded")
	}
}

func num(v any) uint64 {
	if u, ok := v.(*wrapperspb.UInt64Value); ok {
		return u.Value
	}
	return 1 << 63
}
