package exchange

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// publishName records the exchange name in the directory of the cluster
// p's node joined, if any; every kind of exchange calls it from Init. A
// directory that cannot be reached does not stop the exchange: the cluster
// publishes the name again when it can.
func publishName(p *actor.Process, name string) {
	c := cluster.From(p.Node())
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	if err := c.Publish(ctx, RegisteredName(name)); err != nil {
		p.Node().Logger().Warn("exchange not published in the directory", "exchange", name, "err", err)
	}
}

// withdrawName removes the exchange name from the directory; every kind
// of exchange calls it from Terminate.
func withdrawName(p *actor.Process, name string) {
	if c := cluster.From(p.Node()); c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
		defer cancel()
		_ = c.Withdraw(ctx, RegisteredName(name))
	}
}
