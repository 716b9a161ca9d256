package exchange

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/inspectpb"
)

// ErrWrongKind: the process under an exchange's name is another kind of
// exchange than the inspection asked for (a pub-sub exchange or a task
// queue asked as a request-response exchange, say).
var ErrWrongKind = errors.New("exchange: another kind of exchange")

// Inspect returns what the exchange at a looks like now, from any node:
// the request and its answer are protobuf messages. An exchange that is
// not there (or has gone) is ErrExchangeNotFound, one whose node is gone
// actor.ErrNodeDown; a process of that name that is not a request-response
// exchange (a pub-sub exchange, a task queue) is ErrWrongKind.
func Inspect(ctx context.Context, n *actor.Node, a Address) (Info, error) {
	pid, err := a.Resolve(ctx, n)
	if err != nil {
		return Info{}, err
	}
	v, err := n.Call(ctx, pid, &inspectpb.ExchangeInspect{})
	switch {
	case errors.Is(err, actor.ErrNoProcess):
		return Info{}, fmt.Errorf("%w: %q: %w", ErrExchangeNotFound, a.Name, err)
	case errors.Is(err, actor.ErrUnhandled) || errors.Is(err, ErrBadRequest):
		return Info{}, fmt.Errorf("%w: %q", ErrWrongKind, a.Name)
	case err != nil:
		return Info{}, err
	}
	m, ok := v.(*inspectpb.ExchangeInfo)
	if !ok {
		return Info{}, fmt.Errorf("%w: %q answered %T", ErrWrongKind, a.Name, v)
	}
	return infoFromProto(m), nil
}

func infoFromProto(m *inspectpb.ExchangeInfo) Info {
	info := Info{Name: m.GetName(), Strategy: Strategy(m.GetStrategy()), Leader: m.GetLeader(),
		Stats: Stats{Routed: m.GetRouted(), Rejected: m.GetRejected(), NoController: m.GetNoController(), BadDecisions: m.GetBadDecisions()}}
	if k := m.GetKeys(); k != nil {
		info.Stats.Keys = KeyStats{Runs: k.GetRuns(), Reruns: k.GetReruns(), Joined: k.GetJoined(), Replayed: k.GetReplayed(),
			Expired: k.GetExpired(), Evicted: k.GetEvicted(), Refused: k.GetRefused(), Conflicts: k.GetConflicts(),
			Keys: k.GetKeys(), Bytes: k.GetBytes(), Stale: k.GetStale()}
	}
	for _, mb := range m.GetMembers() {
		info.Members = append(info.Members, Member{PID: mb.GetPid(), ServiceTag: mb.GetServiceTag(), ConnTag: mb.GetConnectionTag()})
	}
	return info
}

func (i Info) proto() *inspectpb.ExchangeInfo {
	m := &inspectpb.ExchangeInfo{Name: i.Name, Strategy: int32(i.Strategy), Leader: i.Leader,
		Routed: i.Stats.Routed, Rejected: i.Stats.Rejected, NoController: i.Stats.NoController, BadDecisions: i.Stats.BadDecisions}
	if k := i.Stats.Keys; k != (KeyStats{}) {
		m.Keys = &inspectpb.KeyStats{Runs: k.Runs, Reruns: k.Reruns, Joined: k.Joined, Replayed: k.Replayed,
			Expired: k.Expired, Evicted: k.Evicted, Refused: k.Refused, Conflicts: k.Conflicts, Keys: k.Keys, Bytes: k.Bytes,
			Stale: k.Stale}
	}
	for _, mb := range i.Members {
		m.Members = append(m.Members, &inspectpb.ExchangeMember{Pid: mb.PID, ServiceTag: mb.ServiceTag, ConnectionTag: mb.ConnTag})
	}
	return m
}
