package access

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/release"
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
	Retries     = "access.retries"     // subscriptions recorded at a second try or later
	BadFrames   = "access.bad_frames"  // client frames that were not a ClientFrame
	HTTP        = "access.http"        // fact: the HTTP server's address
)

// App is the application access: the HTTP server. The proxy it
// subscribes its clients to is a static exchange of the node's release
// (kind pubsub, with the users service's event exchange upstream),
// started before the applications: seed 002's exchange points "defined in
// the node's configuration".
func App(st *stats.Set) release.App {
	return release.App{
		Keys: Keys,
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := ConfigFrom(env)
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{
					supervisor.Worker("http", func() actor.Server { return &server{cfg: cfg, st: st} }),
				},
			})
		},
	}
}
