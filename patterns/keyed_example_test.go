package patterns_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// A request with an idempotency key runs once within the exchange's
// window: the second Call gets the first one's outcome, and the handler
// counted one run.
func ExampleWithIdempotencyKey() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, _ := actor.Start(actor.Config{Name: "demo@localhost"})
	defer node.Stop(ctx)
	exchange.Start(ctx, node, exchange.Spec{Name: "payments", Strategy: exchange.RoundRobin})

	var runs atomic.Int32
	joined := make(chan struct{})
	c := patterns.NewController(exchange.Named("payments"), func(_ context.Context, req *exchange.Request) (any, error) {
		return fmt.Sprintf("charged %s (run %d)", req.Msg, runs.Add(1)), nil
	})
	c.OnEvent = func(*actor.Process, any) {
		select {
		case <-joined:
		default:
			close(joined)
		}
	}
	node.Spawn(ctx, c)
	select {
	case <-joined:
	case <-ctx.Done():
		fmt.Println("the controller did not join:", ctx.Err())
		return
	}

	client := patterns.NewClient(node)
	for range 2 {
		v, err := client.Call(ctx, exchange.Named("payments"), "order 7", patterns.WithIdempotencyKey("order-7"))
		fmt.Println(v, err)
	}
	info, _ := exchange.Inspect(ctx, node, exchange.Named("payments"))
	fmt.Println("runs:", runs.Load(), "replayed:", info.Stats.Keys.Replayed)
	// Output:
	// charged order 7 (run 1) <nil>
	// charged order 7 (run 1) <nil>
	// runs: 1 replayed: 1
}
