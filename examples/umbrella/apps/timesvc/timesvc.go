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
	"github.com/switchboard-go/switchboard/supervisor"
)

// Config is the time service's configuration.
type Config struct {
	// Exchange is the exchange's name; default "time".
	Exchange string
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Exchange == "" {
		c.Exchange = "time"
	}
	return c
}

// HubName and ServiceName are the applications' names.
const (
	HubName     = "time_hub"
	ServiceName = "time"
)

// Hub is the distributed application time_hub: the exchange.
func Hub(cfg Config) supervisor.Application {
	cfg = cfg.WithDefaults()
	return supervisor.Application{
		Name: HubName,
		Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{exchange.ChildSpec(exchange.Spec{Name: cfg.Exchange, Strategy: exchange.RoundRobin})},
			})
		},
	}
}

// Service is the application time: a controller answering TimeRequest,
// counted in st as "time.served".
func Service(cfg Config, st *stats.Set) supervisor.Application {
	cfg = cfg.WithDefaults()
	return supervisor.Application{
		Name: ServiceName,
		Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
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
