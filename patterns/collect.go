package patterns

import (
	"context"
	"errors"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
)

// Collector is the consuming end of reverse pub-sub: many sources publish
// to one consumer (log or metrics collection). See Collect.
type Collector struct {
	n        *actor.Node
	pid      *actor.PID
	exchange *actor.PID // the exchange Collect started, if it did
}

// Collect makes one consumer of everything published to the pub-sub
// exchange name with a key that pattern matches: it starts the exchange on
// n if n does not run it yet (published in the cluster's directory, so
// sources on any node reach it with Publish(ctx, node,
// exchange.Named(name), key, msg)), and calls fn for each message, one at a
// time, in a process of its own. Stop ends it.
func Collect(ctx context.Context, n *actor.Node, name, pattern string, fn func(*pubsub.Message)) (*Collector, error) {
	c := &Collector{n: n}
	if n.Whereis(exchange.RegisteredName(name)) == nil {
		pid, err := pubsub.Start(ctx, n, pubsub.Spec{Name: name})
		if err != nil && !errors.Is(err, actor.ErrNameTaken) {
			return nil, err
		}
		c.exchange = pid
	}
	pid, err := n.Spawn(ctx, &collector{fn: fn})
	if err == nil {
		c.pid = pid
		err = Subscribe(ctx, n, exchange.Named(name), pattern, "", pid)
	}
	if err != nil {
		_ = c.Stop(ctx)
		return nil, err
	}
	return c, nil
}

// Stop ends the collector, and the exchange if Collect started it.
func (c *Collector) Stop(ctx context.Context) error {
	var errs []error
	for _, pid := range []*actor.PID{c.pid, c.exchange} {
		if pid != nil {
			if err := c.n.StopProcess(ctx, pid, nil); err != nil && !errors.Is(err, actor.ErrNoProcess) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

type collector struct {
	actor.BaseServer
	fn func(*pubsub.Message)
}

func (c *collector) HandleInfo(p *actor.Process, msg any) {
	m, ok, err := pubsub.AsMessage(msg)
	if !ok {
		return
	}
	if err != nil {
		p.Node().Logger().Warn("collector: undecodable message dropped", "err", err)
		return
	}
	c.fn(m)
}
