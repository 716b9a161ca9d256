package actor_test

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
)

// Counter is a gen_server: its state is its fields.
type Counter struct {
	actor.BaseServer
	n int
}

func (c *Counter) HandleCall(_ *actor.Process, msg any) (any, error) {
	if msg == "incr" {
		c.n++
	}
	return c.n, nil
}

func Example() {
	ctx := context.Background()
	node, err := actor.Start(actor.Config{Name: "example@localhost"})
	if err != nil {
		panic(err)
	}
	defer node.Stop(ctx)

	pid, _ := node.Spawn(ctx, &Counter{}, actor.WithName("counter"))
	node.Call(ctx, pid, "incr")
	n, _ := node.Call(ctx, node.Whereis("counter"), "incr")
	fmt.Println("count:", n)

	node.Exit(pid, actor.ErrKill)
	_, err = node.Call(ctx, pid, "incr")
	fmt.Println(err)
	// Output:
	// count: 2
	// actor: no such process
}
