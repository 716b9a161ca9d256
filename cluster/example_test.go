package cluster_test

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// Two nodes of one process join with the embedded provider, the second
// naming the first as its seed; a name published on one is found from the
// other.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, _ := actor.Start(actor.Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	defer a.Stop(ctx)
	b, _ := actor.Start(actor.Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	defer b.Stop(ctx)

	ca, _ := cluster.Join(ctx, a, cluster.Config{})
	defer ca.Leave(ctx)
	up := make(chan cluster.Event, 8)
	stop := ca.OnEvent(func(ev cluster.Event) { up <- ev })
	defer stop()
	cb, _ := cluster.Join(ctx, b, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{Seeds: []string{a.Address()}})})
	defer cb.Leave(ctx)
	select {
	case ev := <-up:
		fmt.Println(ev.Kind, ev.Member.Name)
	case <-ctx.Done():
		fmt.Println("b did not come up:", ctx.Err())
		return
	}

	_ = cb.Register(ctx, "inventory")
	for {
		e, err := ca.Lookup(ctx, "inventory")
		if err == nil {
			fmt.Println("inventory lives on", e.Node)
			break
		}
		if ctx.Err() != nil {
			fmt.Println("inventory not found:", err)
			return
		}
		time.Sleep(time.Millisecond) // the entry travels from b to a
	}
	// Output:
	// nodeup b@localhost
	// inventory lives on b@localhost
}
