package node

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/statuspb"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
)

// StatusProcess is the registered name of every node's status process.
const StatusProcess = "umbrella.status"

// Exchanges are the request-response exchanges a status reports on where
// they run.
var Exchanges = []string{"users", "time", "subscriptions"}

// PubSubs are the pub-sub exchanges (and proxies) a status reports on.
var PubSubs = []string{"profiles", "profiles.proxy"}

// status answers a StatusRequest with the node's Status.
type status struct {
	actor.BaseServer
	n *Node
}

func (s *status) HandleCall(p *actor.Process, msg any) (any, error) {
	if _, ok := msg.(*statuspb.StatusRequest); !ok {
		return nil, fmt.Errorf("umbrella.status: unknown request %T", msg)
	}
	counters, facts := s.n.st.Snapshot()
	st := &statuspb.Status{
		Node:     p.Node().Name(),
		Role:     s.n.role,
		Apps:     s.n.Apps(),
		Counters: counters,
		Facts:    facts,
	}
	for _, name := range Exchanges {
		if p.Node().Whereis(exchange.RegisteredName(name)) == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		info, err := exchange.Inspect(ctx, p.Node(), exchange.At(p.Node().Address(), name))
		cancel()
		if err != nil {
			continue
		}
		x := &statuspb.Exchange{Name: name, Strategy: info.Strategy.String()}
		if info.Leader != nil {
			x.Leader = info.Leader.GetAddress()
		}
		for _, m := range info.Members {
			x.Members = append(x.Members, m.PID.GetAddress())
		}
		st.Exchanges = append(st.Exchanges, x)
	}
	for _, name := range PubSubs {
		if p.Node().Whereis(exchange.RegisteredName(name)) == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		ps, err := pubsub.Inspect(ctx, p.Node(), exchange.At(p.Node().Address(), name))
		cancel()
		if err == nil {
			st.Pubsubs = append(st.Pubsubs, &statuspb.PubSub{Name: name, Subscriptions: uint64(ps.Subscriptions),
				Published: ps.Published, Delivered: ps.Delivered, Remote: ps.Remote})
		}
	}
	return st, nil
}
