package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// The exchange every Switchboard topology calls: RoundRobin over one
// controller, as in patterns' BenchmarkExchange.
const exchangeName = "ping"

var (
	ping = wrapperspb.String("ping")
	pong = wrapperspb.String("pong")
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startNode starts a node; listen "" is a node that talks to no other.
func startNode(name, listen string) (*actor.Node, error) {
	return actor.Start(actor.Config{Name: name, Listen: listen, Logger: quietLogger()})
}

func stopNode(n *actor.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = n.Stop(ctx)
}

func startExchange(ctx context.Context, n *actor.Node) error {
	_, err := exchange.Start(ctx, n, exchange.Spec{Name: exchangeName, Strategy: exchange.RoundRobin})
	return err
}

// startController starts a controller of ex on n that answers pong, and
// returns once the exchange has it (the controller saw its Leader event).
func startController(ctx context.Context, n *actor.Node, ex exchange.Address) error {
	joined := make(chan struct{})
	c := patterns.NewController(ex, func(context.Context, *exchange.Request) (any, error) { return pong, nil })
	c.OnEvent = closeOnFirst[*exchange.Leader](joined)
	if _, err := n.Spawn(ctx, c); err != nil {
		return err
	}
	select {
	case <-joined:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("controller did not join %s: %w", ex.Name, ctx.Err())
	}
}

// closeOnFirst is an OnEvent that closes ch at the first event of type E
// (a controller's Leader, a worker's WorkerJoined).
func closeOnFirst[E any](ch chan struct{}) func(*actor.Process, any) {
	return func(_ *actor.Process, ev any) {
		if _, ok := ev.(E); ok {
			select {
			case <-ch:
			default:
				close(ch)
			}
		}
	}
}

// sbTarget calls the exchange from a client node. All callers share the
// node's Client, which is safe for concurrent use.
type sbTarget struct {
	node   *actor.Node
	client *patterns.Client
	ex     exchange.Address
}

// newSwitchboardTarget starts a client node. With exchangeAt empty it is
// the one-node topology: the exchange and its controller start in the same
// node, which has no transport. Otherwise the exchange is on the node at
// that address.
func newSwitchboardTarget(ctx context.Context, exchangeAt string) (target, error) {
	if exchangeAt == "" {
		n, err := startNode("one@localhost", "")
		if err != nil {
			return nil, err
		}
		if err := startExchange(ctx, n); err != nil {
			stopNode(n)
			return nil, err
		}
		if err := startController(ctx, n, exchange.Named(exchangeName)); err != nil {
			stopNode(n)
			return nil, err
		}
		return &sbTarget{node: n, client: patterns.NewClient(n), ex: exchange.Named(exchangeName)}, nil
	}
	n, err := startNode("client@localhost", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &sbTarget{node: n, client: patterns.NewClient(n), ex: exchange.At(exchangeAt, exchangeName)}, nil
}

func (t *sbTarget) newCaller() (caller, error) { return sbCaller{t}, nil }
func (t *sbTarget) close()                     { stopNode(t.node) }

type sbCaller struct{ t *sbTarget }

func (sbCaller) close() {}

func (c sbCaller) call(ctx context.Context) error {
	v, err := c.t.client.Call(ctx, c.t.ex, ping)
	if err != nil {
		return err
	}
	if s, ok := v.(*wrapperspb.StringValue); !ok || s.Value != "pong" {
		return fmt.Errorf("unexpected reply %v", v)
	}
	return nil
}
