// Package timesvc is the seed's time service: one method, the exact time,
// by request-response through the exchange "time" (RoundRobin over its
// controllers: any of them knows the time, so the plainest spread is
// right).
//
// Two applications: time_hub (Hub), the exchange, distributed on a
// priority list of nodes; and time (Service), a controller.
package timesvc

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// ExchangeKey is the configuration key of both applications.
var ExchangeKey = release.NewKey("exchange", "time", "the exchange of the time service")

// Config is the time service's configuration; the zero value of a field
// means its key's default.
type Config struct {
	Exchange string // key exchange
}

// WithDefaults returns c with every unset field at its key's default.
func (c Config) WithDefaults() Config {
	if c.Exchange == "" {
		c.Exchange = ExchangeKey.Get(release.Env{})
	}
	return c
}

// HubName and ServiceName are the applications' names.
const (
	HubName     = "time_hub"
	ServiceName = "time"
)

// Hub is the distributed application time_hub: the exchange.
func Hub() release.App {
	return release.App{
		Keys: []release.AnyKey{ExchangeKey},
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := Config{Exchange: ExchangeKey.Get(env)}
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{exchange.ChildSpec(exchange.Spec{Name: cfg.Exchange, Strategy: exchange.RoundRobin})},
			})
		},
	}
}

// Service is the application time: a controller answering TimeRequest,
// counted in st as "time.served".
func Service(st *stats.Set) release.App {
	return release.App{
		Keys: []release.AnyKey{ExchangeKey},
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := Config{Exchange: ExchangeKey.Get(env)}
			handle := func(_ context.Context, req *exchange.Request) (any, error) {
				if _, ok := req.Msg.(*TimeRequest); !ok {
					return nil, fmt.Errorf("time: unknown request %T", req.Msg)
				}
				st.Add("time.served", 1)
				return &TimeReply{UnixNano: time.Now().UnixNano(), ServedBy: n.Name()}, nil
			}
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{patterns.ControllerSpec("time", func() *patterns.Controller {
					return patterns.NewController(exchange.Named(cfg.Exchange), handle)
				})},
			})
		},
	}
}

// Now asks the time service for the time.
func Now(ctx context.Context, c *patterns.Client, cfg Config) (*TimeReply, error) {
	cfg = cfg.WithDefaults()
	return patterns.CallAs[*TimeReply](ctx, c, exchange.Named(cfg.Exchange), &TimeRequest{})
}
