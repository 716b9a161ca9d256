package subscriptions

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// HubName is the name of the distributed application Hub.
const HubName = "subscriptions_hub"

// Hub is the distributed application subscriptions_hub: the exchange,
// LeaderOnly.
func Hub() release.App {
	return release.App{
		Keys: Keys,
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := ConfigFrom(env)
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{exchange.ChildSpec(exchange.Spec{Name: cfg.Exchange, Strategy: exchange.LeaderOnly})},
			})
		},
	}
}

// Add records that client on access follows user.
func Add(ctx context.Context, c *patterns.Client, cfg Config, user, client, access string) (*Subscribers, error) {
	cfg = cfg.WithDefaults()
	return patterns.CallAs[*Subscribers](ctx, c, exchange.Named(cfg.Exchange), &Subscribe{User: user, Client: client, Access: access})
}

// Remove removes what Add recorded.
func Remove(ctx context.Context, c *patterns.Client, cfg Config, user, client, access string) (*Subscribers, error) {
	cfg = cfg.WithDefaults()
	return patterns.CallAs[*Subscribers](ctx, c, exchange.Named(cfg.Exchange), &Unsubscribe{User: user, Client: client, Access: access})
}

// List returns the subscribers of user, and the total over all users.
func List(ctx context.Context, c *patterns.Client, cfg Config, user string) (*Subscribers, error) {
	cfg = cfg.WithDefaults()
	return patterns.CallAs[*Subscribers](ctx, c, exchange.Named(cfg.Exchange), &ListSubscribers{User: user})
}
