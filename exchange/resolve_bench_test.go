package exchange_test

import (
	"context"
	"testing"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
)

// BenchmarkResolve measures what finding an exchange by name adds to a
// request: without a cluster, in a cluster for an exchange on this node,
// and in a cluster for an exchange the directory knows on another node.
func BenchmarkResolve(b *testing.B) {
	ctx := context.Background()
	n, err := actor.Start(actor.Config{Name: "bench@localhost", Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Stop(ctx)
	if _, err := exchange.Start(ctx, n, exchange.Spec{Name: "here"}); err != nil {
		b.Fatal(err)
	}
	run := func(name string, a exchange.Address) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Resolve(ctx, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("no-cluster", exchange.Named("here"))
	c, err := cluster.Join(ctx, n, cluster.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Leave(ctx)
	run("cluster/local", exchange.Named("here"))
	if err := c.Register(ctx, exchange.RegisteredName("elsewhere")); err != nil {
		b.Fatal(err)
	}
	run("cluster/directory", exchange.Named("elsewhere"))
}
