package supervisor_test

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Counter counts calls, and crashes on "boom".
type Counter struct {
	actor.BaseServer
	n int
}

func (c *Counter) HandleCall(_ *actor.Process, msg any) (any, error) {
	if msg == "boom" {
		panic("boom")
	}
	c.n++
	return c.n, nil
}

// A supervised gen_server: it crashes, the supervisor restarts it under the
// same name, with fresh state.
func Example() {
	ctx := context.Background()
	node, _ := actor.Start(actor.Config{Name: "hello@localhost"})
	defer node.Stop(ctx)

	sup, _ := supervisor.Start(ctx, node, supervisor.Spec{
		Strategy: supervisor.OneForOne,
		Children: []supervisor.ChildSpec{
			supervisor.Worker("counter", func() actor.Server { return &Counter{} }, actor.WithName("counter")),
		},
	})
	node.Call(ctx, node.Whereis("counter"), "incr")
	n, _ := node.Call(ctx, node.Whereis("counter"), "incr")
	fmt.Println("count:", n)

	_, err := node.Call(ctx, node.Whereis("counter"), "boom")
	fmt.Println("crashed:", err != nil)
	supervisor.WhichChildren(ctx, node, sup) // answered after the restart
	n, _ = node.Call(ctx, node.Whereis("counter"), "incr")
	fmt.Println("count after restart:", n)
	// Output:
	// count: 2
	// crashed: true
	// count after restart: 1
}
