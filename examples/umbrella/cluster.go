package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// clusterDemo runs four nodes on loopback, joined with the embedded
// membership provider (no Consul): the catalog exchange runs on
// catalog@localhost, its controllers on two worker nodes, and the front
// node calls it by name alone; then the catalog's node stops and the front
// sees it go.
func clusterDemo(ctx context.Context) error {
	// The demo prints what the nodes see; their own connection logs would
	// only repeat it.
	logger := slog.New(slog.DiscardHandler)
	say("four nodes on loopback, one cluster, no Consul (the embedded provider):")
	var nodes []*actor.Node
	defer func() {
		for i := len(nodes) - 1; i >= 0; i-- {
			_ = nodes[i].Stop(context.Background())
		}
	}()
	join := func(name string) (*actor.Node, *cluster.Cluster, error) {
		n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0", Logger: logger})
		if err != nil {
			return nil, nil, err
		}
		nodes = append(nodes, n)
		var seeds []string
		if len(nodes) > 1 {
			seeds = []string{nodes[0].Address()} // the first node is everyone's seed
		}
		c, err := cluster.Join(ctx, n, cluster.Config{Provider: cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds})})
		return n, c, err
	}
	front, fc, err := join("front@localhost")
	if err != nil {
		return err
	}
	events := make(chan cluster.Event, 16)
	defer fc.OnEvent(func(ev cluster.Event) { events <- ev })()
	catalog, _, err := join("catalog@localhost")
	if err != nil {
		return err
	}
	if _, err := exchange.Start(ctx, catalog, exchange.Spec{Name: "catalog", Strategy: exchange.RoundRobin}); err != nil {
		return err
	}
	joined := make(chan struct{}, 8)
	for _, name := range []string{"worker1@localhost", "worker2@localhost"} {
		w, _, err := join(name)
		if err != nil {
			return err
		}
		// The controller finds the catalog by name, through the directory.
		ctrl := patterns.NewController(exchange.Named("catalog"), func(_ context.Context, req *exchange.Request) (any, error) {
			item := req.Msg.(*wrapperspb.StringValue).GetValue()
			return wrapperspb.String(fmt.Sprintf("%s costs %d (priced by %s)", item, 10+len(item), name)), nil
		})
		ctrl.OnEvent = func(_ *actor.Process, ev any) {
			if l, ok := ev.(*exchange.Leader); ok && l.Exchange == "catalog" {
				select {
				case joined <- struct{}{}:
				default:
				}
			}
		}
		if _, err := w.Spawn(ctx, ctrl); err != nil {
			return err
		}
	}
	for up := 0; up < 3; {
		if ev := <-events; ev.Kind == cluster.NodeUp {
			say("  front sees %s up at %s", ev.Member.Name, ev.Member.Address)
			up++
		}
	}
	for range 2 { // each controller hears the exchange's Leader event once joined
		select {
		case <-joined:
		case <-ctx.Done():
			return fmt.Errorf("controllers did not join the catalog: %w", ctx.Err())
		}
	}
	client := patterns.NewClient(front)
	for _, item := range []string{"book", "lamp", "chair", "rug"} {
		v, err := client.Call(ctx, exchange.Named("catalog"), wrapperspb.String(item))
		if err != nil {
			return err
		}
		say("  front asks the catalog (by name) for %-6q -> %s", item, v.(*wrapperspb.StringValue).GetValue())
	}
	say("catalog@localhost stops:")
	if err := catalog.Stop(ctx); err != nil {
		return err
	}
	for ev := range events {
		if ev.Kind == cluster.NodeDown && ev.Member.Name == catalog.Name() {
			say("  front sees %s down", ev.Member.Name)
			break
		}
	}
	_, err = client.Call(ctx, exchange.Named("catalog"), wrapperspb.String("book"))
	say("  front asks the catalog again -> %v", err)
	if !errors.Is(err, exchange.ErrExchangeNotFound) {
		return fmt.Errorf("want ErrExchangeNotFound, got %w", err)
	}
	return nil
}
