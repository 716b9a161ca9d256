package patterns

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/supervisor"
)

func TestMiddlewareObservesRewritesRejects(t *testing.T) {
	n := node(t, "a@localhost", false)
	var seen []string
	spec := exchange.Spec{Name: "mw", Strategy: exchange.RoundRobin, Middleware: []exchange.Middleware{
		func(r *exchange.Request, next func(*exchange.Request) error) error {
			seen = append(seen, str(r.Msg)) // runs on the exchange's goroutine
			return next(r)
		},
		func(r *exchange.Request, next func(*exchange.Request) error) error {
			switch str(r.Msg) {
			case "forbidden":
				return errors.New("policy says no")
			case "old":
				r.Msg = wrapperspb.String("conn")
				r.ConnTag = "rewritten"
			}
			return next(r)
		},
	}}
	startExchange(t, n, spec)
	ex := exchange.Named("mw")
	ctrl(t, n, ex, "c1", "", "")
	c := NewClient(n)
	if _, err := c.Call(ctxT(t), ex, wrapperspb.String("forbidden")); !errors.Is(err, exchange.ErrRejected) || !strings.Contains(err.Error(), "policy says no") {
		t.Fatalf("reject = %v", err)
	}
	// The connection tag is the exchange's to set: a rewrite of the payload survives, the tag is reset.
	if got := call(t, c, ex, "old"); got != "c1/" {
		t.Fatalf("rewritten request answered %q", got)
	}
	if got := call(t, c, ex, "plain"); got != "c1" {
		t.Fatalf("plain request answered %q", got)
	}
	info, _ := exchange.Inspect(ctxT(t), n, ex)
	if len(seen) != 3 || seen[0] != "forbidden" || info.Stats.Rejected != 1 || info.Stats.Routed != 2 {
		t.Fatalf("seen %v stats %+v", seen, info.Stats)
	}
}

func TestDeadlineAndSilentController(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("slow")
	startExchange(t, n, exchange.Spec{Name: "slow", Strategy: exchange.RoundRobin})
	ctrl(t, n, ex, "hanger", "", "")
	ctrl(t, n, ex, "fine", "", "")
	c := NewClient(n)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	var timeouts, ok int
	for i := 0; i < 4; i++ {
		_, err := c.Call(ctx, ex, wrapperspb.String("hang"))
		if errors.Is(err, actor.ErrTimeout) {
			timeouts++
			break
		}
		if err == nil {
			ok++
		}
	}
	if timeouts != 1 {
		t.Fatalf("no timeout from the silent controller")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	// The exchange kept serving: the other controller answers at once.
	for i := 0; i < 2; i++ {
		if v, err := c.Call(ctxT(t), ex, wrapperspb.String("hi"), WithServiceTag("")); err == nil && str(v) == "fine" {
			return
		}
	}
	t.Fatal("the healthy controller did not answer")
}

func TestTypedErrors(t *testing.T) {
	n := node(t, "a@localhost", false)
	c := NewClient(n)
	if _, err := c.Call(ctxT(t), exchange.Named("nope"), wrapperspb.String("x")); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("unknown exchange = %v", err)
	}
	startExchange(t, n, exchange.Spec{Name: "empty", Strategy: exchange.RoundRobin})
	if _, err := c.Call(ctxT(t), exchange.Named("empty"), wrapperspb.String("x")); !errors.Is(err, exchange.ErrNoController) {
		t.Fatalf("no controller = %v", err)
	}
	if _, err := exchange.Start(ctxT(t), n, exchange.Spec{Name: "bad", Strategy: exchange.Func}); !errors.Is(err, exchange.ErrInvalidSpec) {
		t.Fatalf("invalid spec = %v", err)
	}
	ctrl(t, n, exchange.Named("empty"), "c1", "", "")
	if _, err := CallAs[*wrapperspb.Int64Value](ctxT(t), c, exchange.Named("empty"), wrapperspb.String("x")); !errors.Is(err, ErrUnexpectedReply) {
		t.Fatalf("typed mismatch = %v", err)
	}
	if v, err := CallAs[*wrapperspb.StringValue](ctxT(t), c, exchange.Named("empty"), wrapperspb.String("x")); err != nil || v.Value != "c1" {
		t.Fatalf("typed = %v %v", v, err)
	}
}

// A controller that panics: the client gets the crash as an error at once,
// its supervisor restarts it, it joins again, and service goes on.
func TestPanickingControllerIsRestartedAndRejoins(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("svc")
	startExchange(t, n, exchange.Spec{Name: "svc", Strategy: exchange.RoundRobin})
	joined := make(chan *actor.PID, 10)
	spec := ControllerSpec("ctrl", func() *Controller {
		c := NewController(ex, answer("worker"))
		c.OnEvent = func(p *actor.Process, ev any) {
			if _, ok := ev.(*exchange.Leader); ok {
				joined <- p.Self()
			}
		}
		return c
	})
	if _, err := supervisor.Start(ctxT(t), n, supervisor.Spec{Intensity: 5, Period: time.Minute, Children: []supervisor.ChildSpec{spec}}); err != nil {
		t.Fatal(err)
	}
	first := recvWithin(t, joined, "the controller did not join")
	c := NewClient(n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Call(ctx, ex, wrapperspb.String("panic"))
	var pe *actor.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("panic call = %v; want the crash", err)
	}
	// At once: as an answer, well before the call's 30 s deadline.
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("crash reported after %v, not at once (deadline 30 s)", d)
	}
	second := recvWithin(t, joined, "the controller did not join again after its crash")
	if second.Equal(first) {
		t.Fatal("controller not restarted")
	}
	if got := call(t, c, ex, "hi"); got != "worker" {
		t.Fatalf("after restart: %s", got)
	}
}

// An exchange restarted by its supervisor: its controllers see
// ExchangeDown, join the new one, and clients that address it by name go
// on without any change.
func TestExchangeRestartAndControllersRejoin(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("x")
	sup, err := supervisor.Start(ctxT(t), n, supervisor.Spec{Intensity: 5, Period: time.Minute,
		Children: []supervisor.ChildSpec{exchange.ChildSpec(exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})}})
	if err != nil {
		t.Fatal(err)
	}
	_, events := ctrl(t, n, ex, "c1", "", "")
	c := NewClient(n)
	if got := call(t, c, ex, "hi"); got != "c1" {
		t.Fatal(got)
	}
	kids, _ := supervisor.WhichChildren(ctxT(t), n, sup)
	n.Exit(kids[0].PID, errors.New("exchange crashed"))
	waitEvent[*exchange.ExchangeDown](t, events)
	waitEvent[*exchange.Leader](t, events) // joined the new exchange
	if got := call(t, c, ex, "hi"); got != "c1" {
		t.Fatalf("after exchange restart: %s", got)
	}
}

// A controller started before its exchange joins when the exchange comes.
func TestControllerWaitsForExchange(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("later")
	events := make(chan any, 100)
	cc := NewController(ex, answer("early"))
	cc.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	if _, err := n.Spawn(ctxT(t), cc); err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.ExchangeDown](t, events)
	startExchange(t, n, exchange.Spec{Name: "later"})
	waitEvent[*exchange.Leader](t, events)
	if got := call(t, NewClient(n), ex, "hi"); got != "early" {
		t.Fatal(got)
	}
}

type asker struct {
	actor.BaseServer
	ex  exchange.Address
	got chan *Response
}

func (a *asker) Init(p *actor.Process) error {
	if err := Request(context.Background(), p.Node(), a.ex, "t-1", wrapperspb.String("hi"), p.Self()); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	return Request(ctx, p.Node(), a.ex, "t-2", wrapperspb.String("hang"), p.Self())
}

func (a *asker) HandleInfo(_ *actor.Process, msg any) {
	if r, ok := msg.(*Response); ok {
		a.got <- r
	}
}

func TestAsyncRequestReplyArrivesTagged(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("async")
	startExchange(t, n, exchange.Spec{Name: "async", Strategy: exchange.RoundRobin})
	ctrl(t, n, ex, "c1", "", "")
	got := make(chan *Response, 2)
	if _, err := n.Spawn(ctxT(t), &asker{ex: ex, got: got}); err != nil {
		t.Fatal(err)
	}
	byTag := map[string]*Response{}
	for i := 0; i < 2; i++ {
		select {
		case r := <-got:
			byTag[r.Tag] = r
		case <-time.After(10 * time.Second):
			t.Fatal("no async reply")
		}
	}
	if r := byTag["t-1"]; r == nil || r.Err != nil || str(r.Value) != "c1" || r.Exchange != "async" {
		t.Fatalf("t-1 = %+v", r)
	}
	if r := byTag["t-2"]; r == nil || !errors.Is(r.Err, actor.ErrTimeout) {
		t.Fatalf("t-2 = %+v; want a timeout", r)
	}
}
