package patterns

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

func TestMain(m *testing.M) {
	if runChildIfAsked() || runFenceChildIfAsked() {
		return
	}
	goleak.VerifyTestMain(m)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func node(t testing.TB, name string, remote bool) *actor.Node {
	t.Helper()
	cfg := actor.Config{Name: name, Logger: quiet()}
	if remote {
		cfg.Listen = "127.0.0.1:0"
	}
	return nodeWith(t, cfg)
}

// nodeWith starts a node with cfg, stopped at the test's end.
func nodeWith(t testing.TB, cfg actor.Config) *actor.Node {
	t.Helper()
	n, err := actor.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	return n
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func startExchange(t testing.TB, n *actor.Node, spec exchange.Spec) *actor.PID {
	t.Helper()
	pid, err := exchange.Start(ctxT(t), n, spec)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// answer is the handler of test controllers: it replies with the
// controller's name, except for a few commands in the payload.
func answer(name string) Handler {
	return func(ctx context.Context, req *exchange.Request) (any, error) {
		if s, ok := req.Msg.(*wrapperspb.StringValue); ok {
			switch s.Value {
			case "hang":
				<-ctx.Done()
				return nil, ctx.Err()
			case "panic":
				panic("controller " + name + " exploded")
			case "conn":
				return wrapperspb.String(name + "/" + req.ConnTag), nil
			}
		}
		return wrapperspb.String(name), nil
	}
}

// ctrl starts a controller of ex on n named name; its events go to the
// returned channel. It returns once the controller has seen its Leader
// event, that is once the exchange has it.
func ctrl(t testing.TB, n *actor.Node, ex exchange.Address, name string, service, conn string) (*actor.PID, chan any) {
	t.Helper()
	events := make(chan any, 100)
	c := NewController(ex, answer(name))
	c.Membership.ServiceTag, c.Membership.ConnTag = service, conn
	c.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	pid, err := n.Spawn(ctxT(t), c)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)
	return pid, events
}

func waitEvent[T any](t testing.TB, ch <-chan any) T {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case v := <-ch:
			if e, ok := v.(T); ok {
				return e
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T event", zero)
			return zero
		}
	}
}

// recvWithin waits for a value on ch, failing the test with what after
// 10 s.
func recvWithin[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal(what + " within 10 s")
		panic("unreachable")
	}
}

func str(v any) string {
	if s, ok := v.(*wrapperspb.StringValue); ok {
		return s.Value
	}
	return "?"
}

func call(t testing.TB, c *Client, ex exchange.Address, msg string, opts ...RequestOption) string {
	t.Helper()
	v, err := c.Call(ctxT(t), ex, wrapperspb.String(msg), opts...)
	if err != nil {
		t.Fatalf("call %q: %v", msg, err)
	}
	return str(v)
}
