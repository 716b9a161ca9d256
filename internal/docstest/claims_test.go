package docstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// The tests of this file check what the documentation says the code does,
// where no test of the package itself says it in the same terms: when one
// fails, the code changed, and so must the documentation.

// The errors of docs/request-response.md ("Errors, on any node").
var errUnknownItem = errors.New("prices: unknown item")

type outOfStock struct{ item string }

func (e *outOfStock) Error() string { return "prices: out of stock: " + e.item }

// TestErrorsAcrossNodes checks the table of docs/request-response.md: what
// a client on the controller's node and one on another node can tell of
// the handler's error.
func TestErrorsAcrossNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, a := startNode(t, "b@localhost"), startNode(t, "a@localhost")
	if _, err := exchange.Start(ctx, b, exchange.Spec{Name: "prices", Strategy: exchange.RoundRobin}); err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{
		"first":   fmt.Errorf("%w: %q", errUnknownItem, "rug"),
		"later":   fmt.Errorf("lookup: %w", errUnknownItem),
		"typed":   &outOfStock{"tea"},
		"timeout": fmt.Errorf("%w: %w", errUnknownItem, actor.ErrTimeout),
	}
	spawnController(t, b, exchange.Named("prices"), func(_ context.Context, req *exchange.Request) (any, error) {
		return nil, errs[req.Msg.(*wrapperspb.StringValue).GetValue()]
	})
	call := func(n *actor.Node, what string) error {
		_, err := patterns.NewClient(n).Call(ctx, exchange.At(b.Address(), "prices"), wrapperspb.String(what))
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		return err
	}
	var oos *outOfStock
	var remote *actor.RemoteError
	for _, tc := range []struct {
		what             string
		local, elsewhere func(error) bool
	}{
		{"first", isErr(errUnknownItem), isErr(errUnknownItem)},
		{"later", isErr(errUnknownItem), not(isErr(errUnknownItem))},
		{"typed", func(err error) bool { return errors.As(err, &oos) }, func(err error) bool { return !errors.As(err, &oos) && errors.As(err, &remote) }},
		{"timeout", both(isErr(errUnknownItem), isErr(actor.ErrTimeout)), both(not(isErr(errUnknownItem)), isErr(actor.ErrTimeout))},
	} {
		if err := call(b, tc.what); !tc.local(err) {
			t.Errorf("%s, same node: %v (%T)", tc.what, err, err)
		}
		if err := call(a, tc.what); !tc.elsewhere(err) {
			t.Errorf("%s, another node: %v (%T)", tc.what, err, err)
		}
	}
	if err := call(a, "first"); !errors.As(err, &remote) || remote.Text != `prices: unknown item: "rug"` {
		t.Errorf("another node: %v (%T); want an *actor.RemoteError with the text", err, err)
	}
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}
func not(f func(error) bool) func(error) bool { return func(err error) bool { return !f(err) } }
func both(f, g func(error) bool) func(error) bool {
	return func(err error) bool { return f(err) && g(err) }
}

func startNode(t *testing.T, name string) *actor.Node {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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

// spawnController starts a controller of ex on n and returns once the
// exchange has it.
func spawnController(t *testing.T, n *actor.Node, ex exchange.Address, h patterns.Handler) *actor.PID {
	t.Helper()
	joined := make(chan struct{})
	c := patterns.NewController(ex, h)
	c.OnEvent = func(_ *actor.Process, ev any) {
		if _, ok := ev.(*exchange.Leader); ok {
			close(joined)
		}
	}
	pid, err := n.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-joined:
	case <-time.After(10 * time.Second):
		t.Fatal("the controller did not join")
	}
	return pid
}

// TestControllerDeathMidRequest checks "Known limits" in
// docs/request-response.md and step 3 of the data path in
// docs/architecture.md: a controller that crashes while handling a request
// answers at once, one whose node is cut off is answered for at once with
// actor.ErrNodeDown (by the exchange's node, which forwarded to it), but
// one killed while its handler blocks answers nothing, and the client
// waits out its deadline.
func TestControllerDeathMidRequest(t *testing.T) {
	a, b := startNode(t, "a@localhost"), startNode(t, "b@localhost")
	if _, err := exchange.Start(context.Background(), a, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin}); err != nil {
		t.Fatal(err)
	}
	ex := exchange.At(a.Address(), "x")
	for _, tc := range []struct {
		name string
		on   *actor.Node
		die  func(pid *actor.PID) // nil: the handler panics
		want func(error) bool
	}{
		{"crash", a, nil, func(err error) bool { var e *actor.ExitError; return errors.As(err, &e) }},
		{"killed", a, func(pid *actor.PID) { a.Exit(pid, actor.ErrKill) }, isErr(actor.ErrTimeout)},
		{"node cut off", b, func(*actor.PID) { b.Disconnect(a.Address()) }, isErr(actor.ErrNodeDown)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			handling, release := make(chan struct{}, 1), make(chan struct{})
			pid := spawnController(t, tc.on, ex, func(ctx context.Context, _ *exchange.Request) (any, error) {
				handling <- struct{}{}
				if tc.die == nil {
					panic("crash")
				}
				<-release // blocked past the client's deadline
				return wrapperspb.String("too late"), nil
			})
			defer tc.on.Exit(pid, actor.ErrKill)
			defer close(release)
			if tc.die != nil {
				go func() { <-handling; tc.die(pid) }()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			began := time.Now()
			_, err := patterns.NewClient(a).Call(ctx, ex, wrapperspb.String("q"))
			took := time.Since(began)
			if !tc.want(err) {
				t.Fatalf("err = %v (%T) after %v", err, err, took)
			}
			if !errors.Is(err, actor.ErrTimeout) && took > 200*time.Millisecond {
				t.Fatalf("%s was answered after %v: not at once", tc.name, took)
			}
		})
	}
}
