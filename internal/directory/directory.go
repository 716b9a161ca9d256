// Package directory records the exchanges of a node in the directory of
// the cluster it joined: every kind of exchange (request-response,
// pub-sub, task queue) publishes its registered name from Init and
// withdraws it from Terminate.
package directory

import (
	"context"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// timeout bounds one call to the directory from an exchange's process.
const timeout = 2 * time.Second

// Publish records name (an exchange's registered name) in the directory
// of the cluster p's node joined, if any. A directory that cannot be
// reached does not stop the exchange: the cluster publishes the name
// again when it can.
func Publish(p *actor.Process, name, exchange string) {
	c := cluster.From(p.Node())
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.Register(ctx, name); err != nil {
		p.Node().Logger().Warn("exchange not published in the directory", "exchange", exchange, "err", err)
	}
}

// Withdraw removes name from the directory.
func Withdraw(p *actor.Process, name string) {
	if c := cluster.From(p.Node()); c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_ = c.Unregister(ctx, name)
	}
}
