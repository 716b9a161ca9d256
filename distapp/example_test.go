package distapp_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/supervisor"
)

// A distributed application on a cluster of one node (the embedded
// provider): the node is the first of its list, so it starts it.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	locks, _ := os.MkdirTemp("", "locks")
	defer os.RemoveAll(locks)
	node, _ := actor.Start(actor.Config{Name: "a@localhost"})
	defer node.Stop(ctx)
	c, _ := cluster.Join(ctx, node, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{LockDir: locks})})
	defer c.Leave(ctx)
	apps, _ := supervisor.NewAppController(ctx, node)
	dc, _ := distapp.NewCoordinator(node, apps)
	defer dc.StopAll(ctx)

	started := make(chan supervisor.StartType, 1)
	err := dc.Start(ctx, distapp.Spec{
		Application: supervisor.Application{
			Name: "orders",
			Start: func(ctx context.Context, n *actor.Node, t supervisor.StartType) (*actor.PID, error) {
				started <- t
				return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne})
			},
		},
		Nodes: [][]string{{"a@localhost"}, {"b@localhost", "c@localhost"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	select {
	case t := <-started:
		where, _ := dc.Where("orders")
		fmt.Println("orders runs on", where, "normal start:", t.Mode == supervisor.Normal)
	case <-ctx.Done():
		fmt.Println("orders did not start:", ctx.Err())
	}
	// Output: orders runs on a@localhost normal start: true
}
