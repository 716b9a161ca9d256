package access

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Name is the application's name.
const Name = "access"

// Counters and facts of the application, in its node's stats.
const (
	Clients     = "access.clients"     // WebSocket clients connected now
	Connections = "access.connections" // WebSocket clients ever connected
	Delivered   = "access.delivered"   // events written to clients
	Dropped     = "access.dropped"     // events dropped for a slow client
	Subscribes  = "access.subscribes"  // subscriptions made
	Failures    = "access.failures"    // subscriptions that failed
	HTTP        = "access.http"        // fact: the HTTP server's address
)

// App is the application access: the proxy, then the HTTP server.
func App(cfg Config, st *stats.Set) supervisor.Application {
	cfg = cfg.WithDefaults()
	return supervisor.Application{
		Name: Name,
		Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.RestForOne,
				Children: []supervisor.ChildSpec{
					pubsub.ChildSpec(pubsub.Spec{Name: cfg.Proxy, Upstream: exchange.Named(cfg.Upstream)}),
					supervisor.Worker("http", func() actor.Server { return &server{cfg: cfg, st: st} }),
				},
			})
		},
	}
}
