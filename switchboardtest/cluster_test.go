package switchboardtest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), switchboardtest.DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// answer is a handler that replies with the node's name.
func answer(n *actor.Node) patterns.Handler {
	return func(context.Context, *exchange.Request) (any, error) { return wrapperspb.String(n.Name()), nil }
}

// Three nodes that see each other, an exchange on the first, a controller
// on the second, a call from the third.
func TestExchangeControllerCall(t *testing.T) {
	c := switchboardtest.NewCluster(t, 3)
	if len(c.Nodes()) != 3 {
		t.Fatalf("%d nodes", len(c.Nodes()))
	}
	for i, n := range c.Nodes() {
		if want := fmt.Sprintf("n%d@localhost", i+1); n.Name() != want || c.Node(i) != n {
			t.Fatalf("node %d is %s; want %s", i, n.Name(), want)
		}
		if got := len(c.Cluster(i).Members()); got != 3 {
			t.Fatalf("%s sees %d members", n.Name(), got)
		}
	}
	ex := c.StartExchange(0, exchange.Spec{Name: "greet", Strategy: exchange.RoundRobin})
	if ex != exchange.Named("greet") {
		t.Fatalf("address %+v", ex)
	}
	pid := c.StartController(1, ex, patterns.NewController(ex, answer(c.Node(1))))
	info, err := exchange.Inspect(ctxT(t), c.Node(0), ex) // on the exchange's node: Inspect does not cross nodes
	if err != nil || len(info.Members) != 1 || !info.Members[0].PID.Equal(pid) {
		t.Fatalf("members %+v, %v", info.Members, err)
	}
	got, err := patterns.CallAs[*wrapperspb.StringValue](ctxT(t), patterns.NewClient(c.Node(2)), ex, wrapperspb.String("hi"))
	if err != nil || got.GetValue() != "n2@localhost" {
		t.Fatalf("call from n3 = %v, %v", got, err)
	}
}

// A controller's events, recorded in a probe: its Leader event on joining,
// MemberUp when another joins.
func TestControllerEventsInProbe(t *testing.T) {
	c := switchboardtest.NewCluster(t, 2)
	ex := c.StartExchange(0, exchange.Spec{Name: "x", Strategy: exchange.LeaderOnly})
	probe := switchboardtest.NewProbe(t, c.Node(1))
	ctl := patterns.NewController(ex, answer(c.Node(1)))
	ctl.OnEvent = func(_ *actor.Process, ev any) { probe.Record(ev) }
	pid := c.StartController(1, ex, ctl)
	if l := switchboardtest.Expect[*exchange.Leader](t, probe, 0); !l.Is(pid) {
		t.Fatalf("leader %v; want %v", l.Leader, pid)
	}
	other := c.StartController(0, ex, patterns.NewController(ex, answer(c.Node(0))))
	if up := switchboardtest.Expect[*exchange.MemberUp](t, probe, 0); !up.Member.PID.Equal(other) {
		t.Fatalf("member up %v; want %v", up.Member.PID, other)
	}
}

// A probe subscribed to a pub-sub exchange on another node gets what
// matches, in order, and nothing else.
func TestPubSubProbe(t *testing.T) {
	c := switchboardtest.NewCluster(t, 3)
	ex := c.StartPubSub(0, pubsub.Spec{Name: "events"})
	probe := switchboardtest.NewProbe(t, c.Node(2))
	if err := patterns.Subscribe(ctxT(t), c.Node(2), ex, "orders.*", "mine", probe.PID()); err != nil {
		t.Fatal(err)
	}
	switchboardtest.ExpectNothing(t, probe, 0, c.Node(0), c.Node(2))
	publish := func(key, v string) {
		t.Helper()
		if err := patterns.Publish(ctxT(t), c.Node(1), ex, key, wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	publish("orders.new", "one")
	publish("payments.new", "not for the probe")
	publish("orders.paid", "two")
	m := switchboardtest.Expect[*pubsub.Message](t, probe, 0)
	if m.Key != "orders.new" || m.Tag != "mine" || m.Value.(*wrapperspb.StringValue).GetValue() != "one" {
		t.Fatalf("first message %+v", m)
	}
	// The exchange delivers in order: had payments.new reached the probe,
	// it would come before orders.paid.
	if m := switchboardtest.Expect[*pubsub.Message](t, probe, 0); m.Key != "orders.paid" {
		t.Fatalf("second message %+v; want orders.paid", m)
	}
	switchboardtest.ExpectNothing(t, probe, 0, c.Node(0))
}

// A task queue on one node, a worker on another, a producer on a third.
func TestTasks(t *testing.T) {
	c := switchboardtest.NewCluster(t, 3)
	q := c.StartTasks(0, tasks.Spec{Name: "jobs"})
	probe := switchboardtest.NewProbe(t, c.Node(1))
	w := patterns.NewWorker(q, 1, patterns.AckOnReturn(func(_ context.Context, tk *tasks.Task) error {
		probe.Record(tk.Msg)
		return nil
	}))
	w.OnEvent = func(_ *actor.Process, ev any) { probe.Record(ev) }
	if _, err := c.Node(1).Spawn(ctxT(t), w); err != nil {
		t.Fatal(err)
	}
	switchboardtest.Expect[*tasks.WorkerJoined](t, probe, 0)
	if err := patterns.NewTasks(c.Node(2)).Submit(ctxT(t), q, wrapperspb.String("job 1")); err != nil {
		t.Fatal(err)
	}
	if v := switchboardtest.Expect[*wrapperspb.StringValue](t, probe, 0); v.GetValue() != "job 1" {
		t.Fatalf("worker got %v", v)
	}
}

// Stopping and killing nodes: the others see NodeDown; a restarted node
// is back as a new incarnation.
func TestStopKillRestart(t *testing.T) {
	c := switchboardtest.NewCluster(t, 3)
	probe := switchboardtest.NewProbe(t, c.Node(0))
	c.Cluster(0).MonitorNodes(probe.PID())
	ex := c.StartExchange(2, exchange.Spec{Name: "x"})

	old := c.Node(2)
	c.Kill(2)
	ev := switchboardtest.Expect[cluster.Event](t, probe, 0)
	if ev.Kind != cluster.NodeDown || ev.Member.Name != "n3@localhost" {
		t.Fatalf("event %v %s; want NodeDown n3", ev.Kind, ev.Member.Name)
	}
	select {
	case <-old.Done():
	default:
		t.Fatal("killed node not stopped")
	}
	if _, err := ex.Resolve(ctxT(t), c.Node(1)); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("the killed node's exchange resolves: %v", err)
	}

	c.Stop(1)
	if ev := switchboardtest.Expect[cluster.Event](t, probe, 0); ev.Kind != cluster.NodeDown || ev.Member.Name != "n2@localhost" {
		t.Fatalf("event %v %s; want NodeDown n2", ev.Kind, ev.Member.Name)
	}
	switchboardtest.ExpectNothing(t, probe, 0)

	n3 := c.Restart(2)
	if n3 == old || c.Node(2) != n3 || n3.Name() != "n3@localhost" {
		t.Fatalf("restarted node %v", n3.Name())
	}
	if ev := switchboardtest.Expect[cluster.Event](t, probe, 0); ev.Kind != cluster.NodeUp || ev.Member.Name != "n3@localhost" || ev.Member.Address != n3.Address() {
		t.Fatalf("event %v %+v; want NodeUp n3 at %s", ev.Kind, ev.Member, n3.Address())
	}
	c.StartExchange(2, exchange.Spec{Name: "x"})
	c.Restart(1)
	c.AwaitExchange("x", 2)
}

// Every goroutine of a cluster ends with its test.
func TestNoGoroutineOutlivesTheCluster(t *testing.T) {
	t.Run("cluster", func(t *testing.T) {
		c := switchboardtest.NewCluster(t, 3, switchboardtest.WithCallTimeout(time.Second))
		ex := c.StartExchange(0, exchange.Spec{Name: "x"})
		c.StartController(1, ex, patterns.NewController(ex, answer(c.Node(1))))
		probe := switchboardtest.NewProbe(t, c.Node(2))
		if err := patterns.Request(ctxT(t), c.Node(2), ex, "t", wrapperspb.String("hi"), probe.PID()); err != nil {
			t.Fatal(err)
		}
		if r := switchboardtest.Expect[*patterns.Response](t, probe, 0); r.Err != nil || r.Tag != "t" {
			t.Fatalf("response %+v", r)
		}
		c.Kill(1)
	})
	goleak.VerifyNone(t)
}

// Two clusters of one test have cookies of their own: neither talks to
// the other's nodes, though their names are the same. With one cookie
// (WithCookie) they could.
func TestClustersApart(t *testing.T) {
	call := func(from, to *switchboardtest.Cluster) error {
		_, err := from.Node(0).Call(ctxT(t), actor.NamedPID(to.Node(0).Address(), cluster.RegisteredName), wrapperspb.String("hello"))
		return err
	}
	a, b := switchboardtest.NewCluster(t, 1), switchboardtest.NewCluster(t, 1)
	if err := call(b, a); !errors.Is(err, actor.ErrNodeDown) {
		t.Fatalf("call across clusters = %v; want ErrNodeDown (another cookie)", err)
	}
	opts := []switchboardtest.Option{switchboardtest.WithCookie("shared"), switchboardtest.WithTestLog(slog.LevelWarn)}
	c, d := switchboardtest.NewCluster(t, 1, opts...), switchboardtest.NewCluster(t, 1, opts...)
	if err := call(d, c); !errors.Is(err, actor.ErrUnhandled) {
		t.Fatalf("call with the same cookie = %v; want ErrUnhandled (from the cluster process)", err)
	}
}
