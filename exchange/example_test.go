package exchange_test

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// An exchange with two controllers, round-robin: the client alternates
// between them without knowing either.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, _ := actor.Start(actor.Config{Name: "shop@localhost"})
	defer node.Stop(ctx)

	exchange.Start(ctx, node, exchange.Spec{Name: "prices", Strategy: exchange.RoundRobin})
	for _, name := range []string{"first", "second"} {
		joined := make(chan struct{}, 1)
		c := patterns.NewController(exchange.Named("prices"), func(ctx context.Context, req *exchange.Request) (any, error) {
			return name + " says 42", nil
		})
		c.OnEvent = func(_ *actor.Process, ev any) {
			if _, ok := ev.(*exchange.Leader); ok { // the exchange took it in
				select {
				case joined <- struct{}{}:
				default:
				}
			}
		}
		node.Spawn(ctx, c)
		select {
		case <-joined:
		case <-ctx.Done():
			fmt.Println(name, "did not join:", ctx.Err())
			return
		}
	}
	client := patterns.NewClient(node)
	for i := 0; i < 3; i++ {
		v, _ := client.Call(ctx, exchange.Named("prices"), "price of tea?")
		fmt.Println(v)
	}
	// Output:
	// first says 42
	// second says 42
	// first says 42
}
