package patterns_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// startJoined spawns a controller and returns once it has joined.
func startJoined(ctx context.Context, node *actor.Node, s actor.Server, onEvent *func(*actor.Process, any)) {
	joined := make(chan struct{})
	var once sync.Once
	*onEvent = func(_ *actor.Process, ev any) {
		if _, ok := ev.(*exchange.Leader); ok {
			once.Do(func() { close(joined) })
		}
	}
	node.Spawn(ctx, s)
	<-joined
}

// A chunked response: the controller sends words one by one within the
// client's credit; the client ranges over them.
func ExampleClient_Stream() {
	ctx := context.Background()
	node, _ := actor.Start(actor.Config{Name: "demo@localhost"})
	defer node.Stop(ctx)
	exchange.Start(ctx, node, exchange.Spec{Name: "words", Strategy: exchange.RoundRobin})

	c := patterns.NewStreamController(exchange.Named("words"), func(ctx context.Context, req *exchange.Request, send func(any) error) error {
		for _, w := range strings.Fields(req.Msg.(string)) {
			if err := send(w); err != nil {
				return err // the client went away
			}
		}
		return nil // end of stream
	})
	startJoined(ctx, node, c, &c.OnEvent)

	client := patterns.NewClient(node)
	for w, err := range patterns.StreamAs[string](ctx, client, exchange.Named("words"), "one chunk at a time", patterns.WithWindow(2)) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(w)
	}
	// Output:
	// one
	// chunk
	// at
	// a
	// time
}

// A response with request: the controller asks for a confirmation before
// its final reply.
func ExampleClient_Interact() {
	ctx := context.Background()
	node, _ := actor.Start(actor.Config{Name: "demo@localhost"})
	defer node.Stop(ctx)
	exchange.Start(ctx, node, exchange.Spec{Name: "orders", Strategy: exchange.RoundRobin})

	c := patterns.NewInteractController(exchange.Named("orders"), func(ctx context.Context, req *exchange.Request, ask patterns.Ask) (any, error) {
		ok, err := ask(ctx, "really order "+req.Msg.(string)+"?")
		if err != nil {
			return nil, err
		}
		if ok != "yes" {
			return nil, errors.New("cancelled")
		}
		return "ordered " + req.Msg.(string), nil
	})
	startJoined(ctx, node, c, &c.OnEvent)

	client := patterns.NewClient(node)
	v, err := client.Interact(ctx, exchange.Named("orders"), "42 pianos", func(_ context.Context, q any) (any, error) {
		fmt.Println("asked:", q)
		return "yes", nil
	})
	fmt.Println(v, err)
	// Output:
	// asked: really order 42 pianos?
	// ordered 42 pianos <nil>
}
