package patterns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/childtest"
)

// Fail fast: requests in flight when the node of their controller, or of
// the exchange between, goes away are answered with actor.ErrNodeDown as
// soon as a node on their path learns of it, not at their deadline.

// failDeadline is the deadline of every request in these tests; they
// require the answer well before it.
const (
	failDeadline = 30 * time.Second
	failBound    = 10 * time.Second
)

// outcome is how one request in flight ended, and when.
type outcome struct {
	what string
	err  error
	at   time.Time
}

const failChildEnv = "SWITCHBOARD_PATTERNS_FAILFAST_CHILD"

// A test binary started with failChildEnv runs a controller node whose
// handlers all hang (until the request's deadline), saying "GOT <what>" on
// stdout as each request reaches its handler: four plain controllers of
// "ff-call", one of "ff-open" and one of "ff-all", a stream controller of
// "ff-stream" that sends one chunk and hangs, and an interaction controller
// of "ff-interact" that hangs at once ("hang") or after one answer ("ask").
func init() {
	addr := os.Getenv(failChildEnv)
	if addr == "" {
		return
	}
	hang := func(what string) Handler {
		return func(ctx context.Context, _ *exchange.Request) (any, error) {
			fmt.Println("GOT", what)
			<-ctx.Done()
			return nil, ctx.Err()
		}
	}
	var servers []func(joined func()) actor.Server
	joinedOn := func(on *func(*actor.Process, any), joined func()) {
		*on = func(_ *actor.Process, ev any) {
			if _, ok := ev.(*exchange.Leader); ok {
				joined()
			}
		}
	}
	plain := func(ex, what string) func(func()) actor.Server {
		return func(joined func()) actor.Server {
			c := NewController(exchange.At(addr, ex), hang(what))
			joinedOn(&c.OnEvent, joined)
			return c
		}
	}
	for range 4 {
		servers = append(servers, plain("ff-call", "call"))
	}
	servers = append(servers, plain("ff-open", "open"), plain("ff-all", "all"),
		func(joined func()) actor.Server {
			c := NewStreamController(exchange.At(addr, "ff-stream"), func(ctx context.Context, _ *exchange.Request, send func(any) error) error {
				if err := send(wrapperspb.UInt64(0)); err != nil {
					return err
				}
				fmt.Println("GOT stream")
				<-ctx.Done()
				return ctx.Err()
			})
			joinedOn(&c.OnEvent, joined)
			return c
		},
		func(joined func()) actor.Server {
			c := NewInteractController(exchange.At(addr, "ff-interact"), func(ctx context.Context, req *exchange.Request, ask Ask) (any, error) {
				if str(req.Msg) == "ask" {
					if _, err := ask(ctx, wrapperspb.String("name?")); err != nil {
						return nil, err
					}
				}
				fmt.Println("GOT interact", str(req.Msg))
				<-ctx.Done()
				return nil, ctx.Err()
			})
			joinedOn(&c.OnEvent, joined)
			return c
		})
	serveChildren(servers)
}

// TestFailFastControllerNodeKilled: the controllers' node is another OS
// process, killed with SIGKILL while calls (from another node and from the
// exchange's own), a CallAll, two streams (one open, one opening) and two
// interactions (before and after a question) wait on its hanging
// handlers. Every one ends with actor.ErrNodeDown, well before its 30 s
// deadline; the times are logged.
func TestFailFastControllerNodeKilled(t *testing.T) {
	a, b := node(t, "a@localhost", true), node(t, "b@localhost", true)
	for _, spec := range []exchange.Spec{
		{Name: "ff-call", Strategy: exchange.RoundRobin},
		{Name: "ff-open", Strategy: exchange.RoundRobin},
		{Name: "ff-all"}, // Broadcast
		{Name: "ff-stream", Strategy: exchange.RoundRobin},
		{Name: "ff-interact", Strategy: exchange.RoundRobin},
	} {
		startExchange(t, b, spec)
	}
	ctrl(t, b, exchange.Named("ff-all"), "b1", "", "")
	child := startChildTest(t, failChildEnv+"="+b.Address())
	for name, want := range map[string]int{"ff-call": 4, "ff-open": 1, "ff-all": 2, "ff-stream": 1, "ff-interact": 1} {
		waitMembers(t, b, exchange.Named(name), want)
	}
	at := func(name string) exchange.Address { return exchange.At(b.Address(), name) }
	ctx, cancel := context.WithTimeout(context.Background(), failDeadline)
	defer cancel()

	cl, local := NewClient(a), NewClient(b)
	out := make(chan outcome, 16)
	run := func(what string, f func() error) {
		go func() {
			err := f()
			out <- outcome{what, err, time.Now()}
		}()
	}
	for i := range 3 {
		run(fmt.Sprintf("call %d from another node", i), func() error {
			_, err := cl.Call(ctx, at("ff-call"), wrapperspb.String("x"))
			return err
		})
	}
	run("call from the exchange's node", func() error {
		_, err := local.Call(ctx, exchange.Named("ff-call"), wrapperspb.String("x"))
		return err
	})
	run("CallAll (the dead controller's reply)", func() error {
		replies, err := cl.CallAll(ctx, at("ff-all"), wrapperspb.String("x"))
		if err != nil {
			return fmt.Errorf("CallAll itself failed (the controller's node going down is its reply): %v", err)
		}
		var down error
		for _, r := range replies {
			switch {
			case r.Err == nil && str(r.Value) == "b1":
			case down == nil && errors.Is(r.Err, actor.ErrNodeDown):
				down = r.Err
			default:
				return fmt.Errorf("replies %+v", replies)
			}
		}
		if len(replies) != 2 || down == nil {
			return fmt.Errorf("replies %+v; want b1's and ErrNodeDown", replies)
		}
		return down
	})
	streaming := make(chan struct{})
	run("stream (open, no chunk coming)", func() error {
		got := 0
		for _, err := range cl.Stream(ctx, at("ff-stream"), wrapperspb.String("x")) {
			if err != nil {
				return err
			}
			if got++; got == 1 {
				close(streaming)
			}
		}
		return errors.New("the stream ended")
	})
	run("stream (opening)", func() error {
		for _, err := range cl.Stream(ctx, at("ff-open"), wrapperspb.String("x")) {
			return err
		}
		return errors.New("the stream ended")
	})
	run("interaction (before a question)", func() error {
		_, err := cl.Interact(ctx, at("ff-interact"), wrapperspb.String("hang"), func(context.Context, any) (any, error) {
			return nil, errors.New("asked")
		})
		return err
	})
	run("interaction (after an answer)", func() error {
		_, err := cl.Interact(ctx, at("ff-interact"), wrapperspb.String("ask"), func(context.Context, any) (any, error) {
			return wrapperspb.String("me"), nil
		})
		return err
	})
	const requests = 9
	// Each request has reached its handler (the four calls, CallAll's,
	// the opening, the stream, the two interactions): nothing is on its
	// way any more, every one waits.
	for range 9 {
		child.Expect(t, 20*time.Second, "GOT")
	}
	select {
	case <-streaming:
	case <-time.After(20 * time.Second):
		t.Fatal("no chunk")
	}
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	checkFailFast(t, out, requests, killed, "SIGKILL of the controllers' node")
}

// checkFailFast collects count outcomes and requires each to be
// actor.ErrNodeDown within failBound of since.
func checkFailFast(t *testing.T, out <-chan outcome, count int, since time.Time, event string) {
	t.Helper()
	bound := time.After(failDeadline + 10*time.Second)
	var slowest time.Duration
	for range count {
		select {
		case o := <-out:
			took := o.at.Sub(since)
			slowest = max(slowest, took)
			t.Logf("%-40s %8.1f ms after %s: %v", o.what, float64(took.Microseconds())/1000, event, o.err)
			if !errors.Is(o.err, actor.ErrNodeDown) || took > failBound {
				t.Errorf("%s: %v, %v after %s; want actor.ErrNodeDown within %v", o.what, o.err, took, event, failBound)
			}
		case <-bound:
			t.Fatalf("requests still waiting %v after %s", failDeadline+10*time.Second, event)
		}
	}
	t.Logf("slowest: %v", slowest)
}

// TestFailFastExchangeNodeStopped: the node of the exchange between a
// client and its controllers (the hop) stops while requests wait on
// hanging controllers of a third node: the client's calls, CallAll,
// stream opening and interaction end with actor.ErrNodeDown at once.
func TestFailFastExchangeNodeStopped(t *testing.T) {
	a, b, c := node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the nodes stop: the handlers return
	reached := make(chan struct{}, 16)
	hang := func(ctx context.Context, _ *exchange.Request) (any, error) {
		reached <- struct{}{}
		select {
		case <-ctx.Done():
		case <-release:
		}
		return nil, errors.New("released")
	}
	startExchange(t, b, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	startExchange(t, b, exchange.Spec{Name: "all"})
	startExchange(t, b, exchange.Spec{Name: "i", Strategy: exchange.RoundRobin})
	for _, ex := range []string{"x", "x", "x", "all"} {
		events := make(chan any, 10)
		cc := NewController(exchange.At(b.Address(), ex), hang)
		cc.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
		if _, err := c.Spawn(ctxT(t), cc); err != nil {
			t.Fatal(err)
		}
		waitEvent[*exchange.Leader](t, events)
	}
	ic := NewInteractController(exchange.At(b.Address(), "i"), func(ctx context.Context, req *exchange.Request, ask Ask) (any, error) {
		return hang(ctx, req)
	})
	events := make(chan any, 10)
	ic.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	if _, err := c.Spawn(ctxT(t), ic); err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)

	ctx, cancel := context.WithTimeout(context.Background(), failDeadline)
	defer cancel()
	cl := NewClient(a)
	out := make(chan outcome, 8)
	run := func(what string, f func() error) {
		go func() {
			err := f()
			out <- outcome{what, err, time.Now()}
		}()
	}
	x, all, i := exchange.At(b.Address(), "x"), exchange.At(b.Address(), "all"), exchange.At(b.Address(), "i")
	for n := range 2 {
		run(fmt.Sprintf("call %d", n), func() error { _, err := cl.Call(ctx, x, wrapperspb.String("x")); return err })
	}
	run("stream (opening)", func() error {
		for _, err := range cl.Stream(ctx, x, wrapperspb.String("x")) {
			return err
		}
		return errors.New("the stream ended")
	})
	run("CallAll", func() error {
		replies, err := cl.CallAll(ctx, all, wrapperspb.String("x"))
		if len(replies) != 0 {
			return fmt.Errorf("replies %+v", replies)
		}
		return err
	})
	run("interaction", func() error {
		_, err := cl.Interact(ctx, i, wrapperspb.String("x"), func(context.Context, any) (any, error) { return nil, errors.New("asked") })
		return err
	})
	for range 5 {
		select {
		case <-reached:
		case <-time.After(10 * time.Second):
			t.Fatal("a request did not reach its handler")
		}
	}
	stopped := time.Now()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := b.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	checkFailFast(t, out, 5, stopped, "the exchange's node stopped")
}

// serveChildren is serveChild with several processes, each made by one
// of mk and calling joined once it is in place (more calls are ignored):
// READY once all are.
func serveChildren(mk []func(joined func()) actor.Server) {
	n, err := actor.Start(actor.Config{Name: "child@localhost", Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	ch := make(chan struct{}, len(mk))
	for _, m := range mk {
		var once sync.Once
		if _, err := n.Spawn(context.Background(), m(func() { once.Do(func() { ch <- struct{}{} }) })); err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
	}
	for range mk {
		<-ch
	}
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func startChildTest(t *testing.T, env string) *childtest.Child {
	t.Helper()
	c := childtest.Start(t, "controllers", env)
	c.Expect(t, 20*time.Second, "READY")
	return c
}
