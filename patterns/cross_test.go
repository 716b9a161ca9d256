package patterns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/wire"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

// cluster3 is a client node a, an exchange node b with controller b1, and a
// controller node c with c1, c2: a cluster of three over loopback, made
// with the public harness (switchboardtest).
func cluster3(t *testing.T, spec exchange.Spec) (a, b, c *actor.Node, ex exchange.Address, pids map[string]*actor.PID, events map[string]chan any) {
	tc := switchboardtest.NewCluster(t, 3)
	a, b, c = tc.Node(0), tc.Node(1), tc.Node(2)
	tc.StartExchange(1, spec)
	ex = exchange.At(b.Address(), spec.Name)
	pids, events = map[string]*actor.PID{}, map[string]chan any{}
	pids["b1"], events["b1"] = ctrl(t, b, ex, "b1", "", "")
	pids["c1"], events["c1"] = ctrl(t, c, ex, "c1", "", "")
	pids["c2"], events["c2"] = ctrl(t, c, ex, "c2", "", "")
	return
}

func TestAcrossNodesRoundRobinAndBroadcast(t *testing.T) {
	a, _, _, ex, _, _ := cluster3(t, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	cl := NewClient(a)
	count := map[string]int{}
	for i := 0; i < 9; i++ {
		count[call(t, cl, ex, "hi")]++
	}
	if count["b1"] != 3 || count["c1"] != 3 || count["c2"] != 3 {
		t.Fatalf("spread %v", count)
	}

	a2, _, _, ex2, _, _ := cluster3(t, exchange.Spec{Name: "y"})
	replies, err := NewClient(a2).CallAll(ctxT(t), ex2, wrapperspb.String("hi"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range replies {
		got = append(got, str(r.Value))
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "b1,c1,c2" {
		t.Fatalf("broadcast replies %v", got)
	}
}

func TestAcrossNodesLeaderDiesAndIsReplaced(t *testing.T) {
	a, b, _, ex, pids, events := cluster3(t, exchange.Spec{Name: "x", Strategy: exchange.LeaderOnly})
	cl := NewClient(a)
	if got := call(t, cl, ex, "hi"); got != "b1" {
		t.Fatalf("leader is %s; want b1", got)
	}
	// Kill the leader; the members on the other node learn the new one, c1.
	b.Exit(pids["b1"], actor.ErrKill)
	for _, name := range []string{"c1", "c2"} {
		l := waitEvent[*exchange.Leader](t, events[name])
		for !l.Leader.Equal(pids["c1"]) {
			l = waitEvent[*exchange.Leader](t, events[name])
		}
		if len(l.Members) != 2 {
			t.Fatalf("%s sees members %v", name, l.Members)
		}
	}
	if got := call(t, cl, ex, "hi"); got != "c1" {
		t.Fatalf("new leader answered %s; want c1", got)
	}
}

func TestAcrossNodesTypedErrors(t *testing.T) {
	a, b := node(t, "a@localhost", true), node(t, "b@localhost", true)
	cl := NewClient(a)
	if _, err := cl.Call(ctxT(t), exchange.At(b.Address(), "nope"), wrapperspb.String("x")); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("unknown remote exchange = %v", err)
	}
	startExchange(t, b, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin, MaxPayload: 64})
	ex := exchange.At(b.Address(), "x")
	if _, err := cl.Call(ctxT(t), ex, wrapperspb.String("x")); !errors.Is(err, exchange.ErrNoController) {
		t.Fatalf("no controller across nodes = %v", err)
	}
	ctrl(t, b, ex, "b1", "", "")
	if _, err := cl.Call(ctxT(t), ex, wrapperspb.String(strings.Repeat("x", 200))); !errors.Is(err, exchange.ErrTooLarge) {
		t.Fatalf("over the exchange's limit = %v", err)
	}
	small := &Client{n: a, MaxPayload: 16}
	if _, err := small.Call(ctxT(t), ex, wrapperspb.String(strings.Repeat("x", 100))); !errors.Is(err, exchange.ErrTooLarge) {
		t.Fatalf("over the client's limit = %v", err)
	}
	if _, err := cl.Call(ctxT(t), ex, "not a protobuf message"); !errors.Is(err, actor.ErrNotSerializable) {
		t.Fatalf("non-proto across nodes = %v", err)
	}
	// A payload of a type the exchange's node does not know.
	pend := a.NewPending(ctxT(t), b.Address(), false)
	defer pend.Release()
	env := &wire.Envelope{Exchange: "x", RequestId: pend.ReplyTo().Ref(), ReplyAddress: a.Address(),
		Payload: &anypb.Any{TypeUrl: "type.googleapis.com/nobody.Knows", Value: []byte{1, 2}}}
	if err := a.Forward(ex.PID(a), env, pend.ReplyTo()); err != nil {
		t.Fatal(err)
	}
	if _, err := pend.Wait(ctxT(t)); !errors.Is(err, exchange.ErrBadRequest) {
		t.Fatalf("unknown payload type = %v", err)
	}
	// A remote controller that panics: the client hears of it at once.
	c := node(t, "c@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "p", Strategy: exchange.RoundRobin})
	ctrl(t, c, exchange.At(b.Address(), "p"), "c1", "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := cl.Call(ctx, exchange.At(b.Address(), "p"), wrapperspb.String("panic")); err == nil || !strings.Contains(err.Error(), "exploded") {
		t.Fatalf("remote panic = %v", err)
	}
	// At once: as an answer, well before the call's 30 s deadline.
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("remote crash reported after %v, not at once (deadline 30 s)", d)
	}
}

// The controller node is a separate OS process, killed with SIGKILL: the
// exchange drops it and clients go on with the controllers left.
func TestAcrossProcessesControllerNodeKilled(t *testing.T) {
	b := node(t, "b@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	ex := exchange.At(b.Address(), "x")
	ctrl(t, b, ex, "local", "", "")
	child := startChildController(t, b.Address(), "x")
	waitMembers(t, b, exchange.Named("x"), 2)
	cl := NewClient(b)
	count := map[string]int{}
	for i := 0; i < 4; i++ {
		count[call(t, cl, exchange.Named("x"), "hi")]++
	}
	if count["child"] != 2 || count["local"] != 2 {
		t.Fatalf("spread %v", count)
	}
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, b, exchange.Named("x"), 1)
	for i := 0; i < 4; i++ {
		if got := call(t, cl, exchange.Named("x"), "hi"); got != "local" {
			t.Fatalf("after the kill: %s", got)
		}
	}
}

func waitMembers(t *testing.T, n *actor.Node, ex exchange.Address, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	ctx := ctxT(t) // one context for the whole wait, not a cleanup per poll
	for {
		info, err := exchange.Inspect(ctx, n, ex)
		if err == nil && len(info.Members) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("exchange has %d members; want %d", len(info.Members), want)
		}
		time.Sleep(5 * time.Millisecond) // polls the exchange's own state; no event to await from a dead process
	}
}

const childEnv = "SWITCHBOARD_PATTERNS_CHILD"

func startChildController(t *testing.T, exchangeNode, name string, env ...string) *childtest.Child {
	t.Helper()
	c := childtest.Start(t, "controller", append(env, childEnv+"="+exchangeNode+","+name)...)
	c.Expect(t, 20*time.Second, "READY")
	return c
}

// runChildIfAsked runs a controller node when the test binary is started as
// a child; it lives until its stdin closes or it is killed.
func runChildIfAsked() bool {
	v := os.Getenv(childEnv)
	if v == "" {
		return false
	}
	addr, name, _ := strings.Cut(v, ",")
	serveChild(func(joined func()) actor.Server {
		c := NewController(exchange.At(addr, name), answer("child"))
		c.OnEvent = func(_ *actor.Process, ev any) {
			if _, ok := ev.(*exchange.Leader); ok {
				joined()
			}
		}
		return c
	})
	return true
}

// serveChild is the body of a child node: it starts a node, spawns the
// process mk makes, which calls joined once it is in place, says READY
// then, and lives until its stdin closes or it is killed. SB_COOKIE and
// SB_TICK, if set, are its Cookie and TickTime.
func serveChild(mk func(joined func()) actor.Server) {
	tick, _ := time.ParseDuration(os.Getenv("SB_TICK"))
	n, err := actor.Start(actor.Config{Name: "child@localhost", Listen: "127.0.0.1:0", Logger: quiet(),
		Cookie: os.Getenv("SB_COOKIE"), TickTime: tick})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	ch := make(chan struct{}, 1)
	joined := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	if _, err := n.Spawn(context.Background(), mk(joined)); err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	<-ch
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

// Service tags, middleware, request tags and deadlines, with the client,
// the exchange and the controllers on three nodes.
func TestAcrossNodesTagsMiddlewareDeadlines(t *testing.T) {
	a, b, c := node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin, Middleware: []exchange.Middleware{
		func(r *exchange.Request, next func(*exchange.Request) error) error {
			if str(r.Msg) == "forbidden" {
				return errors.New("not from here")
			}
			return next(r)
		},
	}})
	ex := exchange.At(b.Address(), "x")
	ctrl(t, c, ex, "eu", "eu", "")
	ctrl(t, c, ex, "us", "us", "")
	cl := NewClient(a)
	for i := 0; i < 4; i++ {
		if got := call(t, cl, ex, "hi", WithServiceTag("us")); got != "us" {
			t.Fatalf("us request went to %s", got)
		}
	}
	if _, err := cl.Call(ctxT(t), ex, wrapperspb.String("hi"), WithServiceTag("asia")); !errors.Is(err, exchange.ErrNoController) {
		t.Fatalf("empty group across nodes = %v", err)
	}
	if _, err := cl.Call(ctxT(t), ex, wrapperspb.String("forbidden")); !errors.Is(err, exchange.ErrRejected) {
		t.Fatalf("middleware across nodes = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := cl.Call(ctx, ex, wrapperspb.String("hang"), WithServiceTag("eu")); !errors.Is(err, actor.ErrTimeout) {
		t.Fatalf("silent remote controller = %v", err)
	}
	// A process on a sends asynchronously; replies come back tagged.
	got := make(chan *Response, 2)
	if _, err := a.Spawn(ctxT(t), &asker{ex: ex, got: got}); err != nil {
		t.Fatal(err)
	}
	tags := map[string]*Response{}
	for i := 0; i < 2; i++ {
		select {
		case r := <-got:
			tags[r.Tag] = r
		case <-time.After(10 * time.Second):
			t.Fatal("no async reply across nodes")
		}
	}
	if r := tags["t-1"]; r == nil || r.Err != nil || (str(r.Value) != "eu" && str(r.Value) != "us") {
		t.Fatalf("t-1 = %+v", r)
	}
	if r := tags["t-2"]; r == nil || !errors.Is(r.Err, actor.ErrTimeout) {
		t.Fatalf("t-2 = %+v; want a timeout", r)
	}
}
