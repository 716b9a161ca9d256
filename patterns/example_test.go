package patterns_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// Request-response in one line on each side: a controller with a handler,
// a client with Call (here the typed CallAs).
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, _ := actor.Start(actor.Config{Name: "demo@localhost"})
	defer node.Stop(ctx)
	exchange.Start(ctx, node, exchange.Spec{Name: "upper", Strategy: exchange.RoundRobin})

	joined := make(chan struct{})
	c := patterns.NewController(exchange.Named("upper"), func(_ context.Context, req *exchange.Request) (any, error) {
		return strings.ToUpper(req.Msg.(string)), nil
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

	s, err := patterns.CallAs[string](ctx, patterns.NewClient(node), exchange.Named("upper"), "hello")
	fmt.Println(s, err)
	// Output: HELLO <nil>
}
