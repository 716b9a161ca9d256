package browsertest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

// The environment that makes the test binary a child node: childName is
// its name, childSeed the observer's address, childLocks the embedded
// provider's lock directory, childQueue "1" to run the task queue jobs
// (with 5 tasks waiting, no worker) and the pub-sub exchange news.
const (
	childName  = "SB_DASH_CHILD"
	childSeed  = "SB_DASH_SEED"
	childLocks = "SB_DASH_LOCKS"
	childQueue = "SB_DASH_QUEUE"
)

// shop is the application every child runs: a controller of the
// exchange orders (on the observer), and with queue the task queue jobs
// and the pub-sub exchange news, under a supervisor of its own.
func shop(queue bool) supervisor.Application {
	return supervisor.Application{Name: "shop", Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
		ex := exchange.Named("orders")
		children := []supervisor.ChildSpec{
			patterns.ControllerSpec("orders-controller", func() *patterns.Controller {
				return patterns.NewController(ex, func(context.Context, *exchange.Request) (any, error) { return wrapperspb.String("ok"), nil })
			}),
		}
		if queue {
			children = append(children,
				tasks.ChildSpec(tasks.Spec{Name: "jobs"}),
				pubsub.ChildSpec(pubsub.Spec{Name: "news"}),
			)
		}
		return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: children})
	}}
}

// runChild is a child node: it joins the observer's cluster, starts its
// inspector and shop, prints READY once its controller has joined orders,
// and lives until its stdin closes (or SIGKILL).
func runChild() {
	fail := func(err error) {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	n, err := actor.Start(actor.Config{Name: os.Getenv(childName), Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	provider := cluster.Embedded(cluster.EmbeddedConfig{Seeds: []string{os.Getenv(childSeed)}, Interval: 50 * time.Millisecond, LockDir: os.Getenv(childLocks)})
	if _, err := cluster.Join(ctx, n, cluster.Config{Provider: provider}); err != nil {
		fail(err)
	}
	apps, err := supervisor.NewAppController(ctx, n)
	if err != nil {
		fail(err)
	}
	if _, err := inspect.Start(ctx, n, inspect.Sources{Apps: apps}); err != nil {
		fail(err)
	}
	queue := os.Getenv(childQueue) == "1"
	if err := apps.Load(shop(queue)); err != nil {
		fail(err)
	}
	if err := apps.Start(ctx, "shop", supervisor.Permanent); err != nil {
		fail(err)
	}
	if queue {
		for i := range 5 {
			if err := patterns.NewTasks(n).Submit(ctx, exchange.Named("jobs"), wrapperspb.Int32(int32(i))); err != nil {
				fail(err)
			}
		}
	}
	// READY once the exchange counts this node's controller.
	for {
		info, err := exchange.Inspect(ctx, n, exchange.Named("orders"))
		if err == nil && hasMemberOn(info, n.Address()) {
			break
		}
		if ctx.Err() != nil {
			fail(fmt.Errorf("controller not joined orders: %v", err))
		}
		time.Sleep(20 * time.Millisecond) // polling the exchange, bounded by ctx
	}
	fmt.Println("READY", n.Address())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = apps.StopAll(sctx)
	_ = n.Stop(sctx)
	os.Exit(0)
}

func hasMemberOn(info exchange.Info, address string) bool {
	for _, m := range info.Members {
		if m.PID.GetAddress() == address {
			return true
		}
	}
	return false
}
