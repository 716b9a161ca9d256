package pubsub_test

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/patterns"
)

// Subscriber is a plain process: the messages of its subscriptions arrive
// in HandleInfo, and pubsub.AsMessage reads them (from this node or
// another).
type Subscriber struct {
	actor.BaseServer
	got chan<- *pubsub.Message
}

func (s *Subscriber) HandleInfo(_ *actor.Process, msg any) {
	if m, ok, err := pubsub.AsMessage(msg); ok && err == nil {
		s.got <- m
	}
}

// A pub-sub exchange and one subscriber with two patterns: each message
// reaches the subscriptions whose pattern matches its routing key ("*" one
// word, "#" zero or more), labelled with the subscription's tag; one that
// matches none is only counted.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, _ := actor.Start(actor.Config{Name: "shop@localhost"})
	defer node.Stop(ctx)
	events := exchange.Named("events")
	pubsub.Start(ctx, node, pubsub.Spec{Name: "events"})

	got := make(chan *pubsub.Message, 8)
	sub, _ := node.Spawn(ctx, &Subscriber{got: got})
	patterns.Subscribe(ctx, node, events, "orders.*", "orders", sub)
	patterns.Subscribe(ctx, node, events, "stock.#", "stock", sub)

	patterns.Publish(ctx, node, events, "orders.paid", "order 42 is paid")
	patterns.Publish(ctx, node, events, "audit.login", "nobody listens to this")
	patterns.Publish(ctx, node, events, "stock.low.tea", "tea is running out")
	for range 2 {
		select {
		case m := <-got:
			fmt.Printf("%s: %s (key %s)\n", m.Tag, m.Value, m.Key)
		case <-ctx.Done():
			fmt.Println("no delivery:", ctx.Err())
			return
		}
	}
	// The exchange took the publishes before this call, which it answers
	// after them.
	s, err := pubsub.Inspect(ctx, node, events)
	fmt.Printf("published %d, delivered %d, unmatched %d, %v\n", s.Published, s.Delivered, s.Unmatched, err)
	// Output:
	// orders: order 42 is paid (key orders.paid)
	// stock: tea is running out (key stock.low.tea)
	// published 3, delivered 2, unmatched 1, <nil>
}
