package switchboardtest

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// StartExchange starts the request-response exchange spec on node i (see
// exchange.Start) and returns its address by name, once every node that
// is up resolves that name to node i (see AwaitExchange).
func (c *Cluster) StartExchange(i int, spec exchange.Spec) exchange.Address {
	c.t.Helper()
	c.checkUp(i)
	ctx, cancel := c.ctx()
	defer cancel()
	if _, err := exchange.Start(ctx, c.nodes[i], spec); err != nil {
		c.t.Fatalf("switchboardtest: starting exchange %q on %s: %v", spec.Name, c.nodes[i].Name(), err)
	}
	c.AwaitExchange(spec.Name, i)
	return exchange.Named(spec.Name)
}

// StartPubSub starts the pub-sub exchange spec on node i (see pubsub.Start)
// and returns its address by name, once every node that is up resolves
// that name to node i.
func (c *Cluster) StartPubSub(i int, spec pubsub.Spec) exchange.Address {
	c.t.Helper()
	c.checkUp(i)
	ctx, cancel := c.ctx()
	defer cancel()
	if _, err := pubsub.Start(ctx, c.nodes[i], spec); err != nil {
		c.t.Fatalf("switchboardtest: starting pub-sub exchange %q on %s: %v", spec.Name, c.nodes[i].Name(), err)
	}
	c.AwaitExchange(spec.Name, i)
	return exchange.Named(spec.Name)
}

// StartTasks starts the task queue spec on node i (see tasks.Start) and
// returns its address by name, once every node that is up resolves that
// name to node i.
func (c *Cluster) StartTasks(i int, spec tasks.Spec) exchange.Address {
	c.t.Helper()
	c.checkUp(i)
	ctx, cancel := c.ctx()
	defer cancel()
	if _, err := tasks.Start(ctx, c.nodes[i], spec); err != nil {
		c.t.Fatalf("switchboardtest: starting task queue %q on %s: %v", spec.Name, c.nodes[i].Name(), err)
	}
	c.AwaitExchange(spec.Name, i)
	return exchange.Named(spec.Name)
}

// AwaitExchange waits until exchange.Named(name) resolves to node i from
// every node that is up: the node's own exchange of that name, or the
// cluster's directory, says it runs on node i. Use it after starting an
// exchange some other way (in a supervision tree, an application), or
// after a failover moved one. Every kind of exchange counts: request-response,
// pub-sub, task queue.
func (c *Cluster) AwaitExchange(name string, i int) {
	c.t.Helper()
	c.checkUp(i)
	want := c.nodes[i].Address()
	c.await(func() (bool, string) {
		for _, j := range c.up() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			pid, err := exchange.Named(name).Resolve(ctx, c.nodes[j])
			cancel()
			switch {
			case err != nil:
				return false, fmt.Sprintf("exchange %q on %s: not visible from %s: %v", name, c.name(i), c.name(j), err)
			case pid.Address != want:
				return false, fmt.Sprintf("exchange %q on %s: %s resolves it to %s", name, c.name(i), c.name(j), c.nodeAt(pid.Address))
			}
		}
		return true, ""
	})
}

// StartController spawns the controller srv on node i and returns its PID
// once the exchange ex, as node i resolves it, counts srv among its
// members: the controller has joined and the exchange routes requests to
// it. srv is any controller of a request-response exchange: a
// patterns.Controller, StreamController or InteractController, or a
// gen_server of your own with an exchange.Membership. (To see the
// controller's own events, a *exchange.Leader among them, record them in a
// Probe: set its OnEvent to a function that calls probe.Record.)
func (c *Cluster) StartController(i int, ex exchange.Address, srv actor.Server) *actor.PID {
	c.t.Helper()
	c.checkUp(i)
	n := c.nodes[i]
	ctx, cancel := c.ctx()
	defer cancel()
	pid, err := n.Spawn(ctx, srv)
	if err != nil {
		c.t.Fatalf("switchboardtest: spawning a controller of %s on %s: %v", fmtAddress(ex), n.Name(), err)
	}
	c.await(func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := c.inspect(ctx, n, ex)
		cancel()
		if err != nil {
			return false, fmt.Sprintf("controller %s on %s has not joined exchange %s: %v", actor.FormatPID(pid), n.Name(), fmtAddress(ex), err)
		}
		for _, m := range info.Members {
			if m.PID.Equal(pid) {
				return true, ""
			}
		}
		if !n.Alive(pid) {
			c.t.Fatalf("switchboardtest: controller %s on %s exited before it joined exchange %s", actor.FormatPID(pid), n.Name(), fmtAddress(ex))
		}
		return false, fmt.Sprintf("controller %s on %s has not joined exchange %s (%d members)", actor.FormatPID(pid), n.Name(), fmtAddress(ex), len(info.Members))
	})
	return pid
}

// inspect inspects the exchange ex, as n resolves it, from the node that
// runs it (exchange.Inspect works from any node; from there it needs no
// hop).
func (c *Cluster) inspect(ctx context.Context, n *actor.Node, ex exchange.Address) (exchange.Info, error) {
	pid, err := ex.Resolve(ctx, n)
	if err != nil {
		return exchange.Info{}, err
	}
	for j, m := range c.nodes {
		if m != nil && !c.down[j] && m.Address() == pid.Address {
			return exchange.Inspect(ctx, m, exchange.Named(ex.Name))
		}
	}
	return exchange.Info{}, fmt.Errorf("%w: %s is not a node of the cluster that is up", exchange.ErrExchangeNotFound, pid.Address)
}

// nodeAt names the node of the cluster at address, or returns the address.
func (c *Cluster) nodeAt(address string) string {
	for i, n := range c.nodes {
		if n != nil && n.Address() == address {
			if c.down[i] {
				return c.name(i) + " (stopped)"
			}
			return c.name(i)
		}
	}
	return address
}

func fmtAddress(a exchange.Address) string {
	if a.Node == "" {
		return fmt.Sprintf("%q", a.Name)
	}
	return fmt.Sprintf("%q at %s", a.Name, a.Node)
}
