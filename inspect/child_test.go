package inspect_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

// childEnv, set to the observer's address, makes the test binary the node
// child@test: it joins the observer's embedded cluster (locks in
// SB_LOCKDIR), runs the application shop (an exchange, its controller, a
// pub-sub exchange and a proxy of it, a task queue and its worker, and a
// supervisor inner with counter, an Inspector, and crasher) and the
// distributed application dapp on [child, obs], subscribes and submits,
// starts its inspector, prints READY and lives until its stdin closes.
const childEnv = "SB_INSPECT_CHILD"

// counter is a gen_server that shows its state: the casts it got.
type counter struct {
	actor.BaseServer
	casts int
}

func (c *counter) HandleCast(*actor.Process, any) { c.casts++ }

func (c *counter) HandleInspect(*actor.Process) map[string]string {
	return map[string]string{"casts": strconv.Itoa(c.casts)}
}

// crasher panics on every cast: its supervisor restarts it.
type crasher struct{ actor.BaseServer }

func (crasher) HandleCast(*actor.Process, any) { panic("crash on purpose") }

func shop() supervisor.Application {
	ex := exchange.Named("orders")
	inner := supervisor.Spec{Strategy: supervisor.OneForOne, Intensity: 100, Period: time.Minute, Children: []supervisor.ChildSpec{
		supervisor.Worker("counter", func() actor.Server { return &counter{} }, actor.WithName("counter")),
		supervisor.Worker("crasher", func() actor.Server { return crasher{} }, actor.WithName("crasher")),
	}}
	return supervisor.Application{Name: "shop", Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
		return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{
			exchange.ChildSpec(exchange.Spec{Name: "orders", Strategy: exchange.RoundRobin}),
			patterns.ControllerSpec("orders-controller", func() *patterns.Controller {
				return patterns.NewController(ex, func(context.Context, *exchange.Request) (any, error) { return wrapperspb.String("ok"), nil })
			}),
			pubsub.ChildSpec(pubsub.Spec{Name: "news"}),
			pubsub.ChildSpec(pubsub.Spec{Name: "news-edge", Upstream: exchange.Named("news")}),
			tasks.ChildSpec(tasks.Spec{Name: "jobs", AckTimeout: time.Hour}),
			patterns.WorkerSpec("jobs-worker", func() *patterns.Worker {
				return patterns.NewWorker(exchange.Named("jobs"), 3, func(*patterns.Worker, *tasks.Task) {}) // holds every task
			}),
			supervisor.Supervisor("inner", inner),
		}})
	}}
}

func dapp() distapp.Spec {
	return distapp.Spec{
		Application: supervisor.Application{Name: "dapp", Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
			return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne})
		}},
		Nodes:   [][]string{{"child@test"}, {"obs@test"}},
		Stagger: time.Millisecond,
	}
}

func runChild() {
	fail := func(err error) {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	n, err := actor.Start(actor.Config{Name: "child@test", Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	provider := cluster.Embedded(cluster.EmbeddedConfig{Seeds: []string{os.Getenv(childEnv)}, Interval: 50 * time.Millisecond, LockDir: os.Getenv("SB_LOCKDIR")})
	if _, err := cluster.Join(ctx, n, cluster.Config{Provider: provider}); err != nil {
		fail(err)
	}
	apps, err := supervisor.NewAppController(ctx, n)
	if err != nil {
		fail(err)
	}
	dc, err := distapp.NewCoordinator(n, apps)
	if err != nil {
		fail(err)
	}
	if _, err := inspect.Start(ctx, n, inspect.Sources{Apps: apps, DistApps: dc}); err != nil {
		fail(err)
	}
	if err := apps.Load(shop()); err != nil {
		fail(err)
	}
	if err := apps.Start(ctx, "shop", supervisor.Permanent); err != nil {
		fail(err)
	}
	if err := dc.Start(ctx, dapp()); err != nil {
		fail(err)
	}
	sub, err := n.Spawn(ctx, &counter{})
	if err != nil {
		fail(err)
	}
	if err := patterns.Subscribe(ctx, n, exchange.Named("news"), "a.*", "t", sub); err != nil {
		fail(err)
	}
	if err := patterns.Subscribe(ctx, n, exchange.Named("news-edge"), "b.#", "", sub); err != nil {
		fail(err)
	}
	for i := range 5 {
		if err := patterns.NewTasks(n).Submit(ctx, exchange.Named("jobs"), wrapperspb.Int32(int32(i))); err != nil {
			fail(err)
		}
	}
	for range 3 {
		_ = n.Cast(actor.NamedPID(n.Address(), "counter"), wrapperspb.String("x"))
	}
	fmt.Println("READY", n.Address())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = dc.StopAll(sctx)
	_ = apps.StopAll(sctx)
	_ = n.Stop(sctx)
	os.Exit(0)
}
