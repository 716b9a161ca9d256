package users

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// CoreName is the name of the distributed application Core.
const CoreName = "users_core"

// Core is the distributed application users_core: the exchange (Sticky)
// and the pub-sub exchange of events, under one supervisor.
func Core() release.App {
	return release.App{
		Keys: Keys,
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := ConfigFrom(env)
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{
					exchange.ChildSpec(exchange.Spec{Name: cfg.Exchange, Strategy: exchange.Sticky}),
					pubsub.ChildSpec(pubsub.Spec{Name: cfg.Events}),
				},
			})
		},
	}
}
