package patterns_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// startJoined spawns a controller and returns once it has joined, or
// prints why not and returns false when ctx ends first.
func startJoined(ctx context.Context, node *actor.Node, s actor.Server, onEvent *func(*actor.Process, any)) bool {
	joined := make(chan struct{})
	var once sync.Once
	*onEvent = func(_ *actor.Process, ev any) {
		if _, ok := ev.(*exchange.Leader); ok {
			once.Do(func() { close(joined) })
		}
	}
	node.Spawn(ctx, s)
	select {
	case <-joined:
		return true
	case <-ctx.Done():
		fmt.Println("the controller did not join:", ctx.Err())
		return false
	}
}

// A chunked response: the controller sends words one by one within the
// client's credit; the client ranges over them.
func ExampleClient_Stream() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
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
	if !startJoined(ctx, node, c, &c.OnEvent) {
		return
	}

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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
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
	if !startJoined(ctx, node, c, &c.OnEvent) {
		return
	}

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
