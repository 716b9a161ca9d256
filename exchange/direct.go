package exchange

import (
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// routeTable is a snapshot of the member table, for routing off the
// exchange's goroutine: the connections of every service group ("" for
// all), the leader, and the round-robin position of each group, which the
// exchange's goroutine shares.
type routeTable struct {
	version uint64
	groups  map[string][]Member
	cursor  map[string]*atomic.Uint64
	leader  *actor.PID
}

// refresh rebuilds the snapshot if the member table changed since, and
// returns it. The exchange's goroutine calls it after every change; the
// round-robin positions carry over.
func (r *router) refresh() *routeTable {
	old := r.table.Load()
	if old != nil && old.version == r.m.version {
		return old
	}
	t := &routeTable{version: r.m.version, groups: map[string][]Member{}, cursor: map[string]*atomic.Uint64{}, leader: r.m.leader}
	for _, x := range r.m.list {
		t.groups[""] = append(t.groups[""], x)
		if x.ServiceTag != "" {
			t.groups[x.ServiceTag] = append(t.groups[x.ServiceTag], x)
		}
	}
	for tag := range t.groups {
		if old != nil && old.cursor[tag] != nil {
			t.cursor[tag] = old.cursor[tag]
		} else {
			t.cursor[tag] = new(atomic.Uint64)
		}
	}
	r.table.Store(t)
	return t
}

// direct reports whether requests to an exchange of spec can be routed on
// the connection they arrive by: the strategy needs no user code and no
// state but the round-robin position, and no middleware wraps it.
func direct(spec *Spec) bool {
	switch spec.Strategy {
	case RoundRobin, LeaderRoundRobin, LeaderOnly:
		return len(spec.Middleware) == 0
	}
	return false
}

// routeDirect routes a request that came from another node, on the
// connection's reader goroutine, from the router's snapshot: it forwards
// the envelope as it arrived (its payload is not decoded here), to one
// controller. Anything else — another message, a request for every reply,
// a keyed one (it comes back through the exchange, see keyed.go),
// one without payload, an expired or oversized one, a group without
// controllers — it leaves to the exchange's goroutine, which answers it as
// HandleCall always did. The snapshot changes when the exchange's
// goroutine handles a join, a leave or a death: until then a controller
// that has just died may still be picked, and the client gets
// ErrNoProcess from its node, as when it dies just after being picked.
func (s *server) routeDirect(msg any, _ actor.ReplyTo) bool {
	env, ok := msg.(*wire.Envelope)
	if !ok || env.GetWantAll() || env.GetRequestId() == 0 || env.GetIdempotencyKey() != "" || env.GetPayload() == nil ||
		len(env.GetPayload().GetValue()) > s.spec.MaxPayload {
		return false
	}
	if d := env.GetDeadlineUnixNano(); d != 0 && time.Now().UnixNano() > d {
		return false
	}
	t := s.router.table.Load()
	if t == nil {
		return false
	}
	group := t.groups[env.GetServiceTag()]
	if len(group) == 0 {
		return false
	}
	var to Member
	switch s.spec.Strategy {
	case LeaderOnly:
		i := 0
		for i < len(group) && !samePID(group[i].PID, t.leader) {
			i++
		}
		if i == len(group) {
			return false
		}
		to = group[i]
	default:
		to = group[(t.cursor[env.GetServiceTag()].Add(1)-1)%uint64(len(group))]
	}
	env.ConnectionTag = to.ConnTag
	s.routed.Add(1)
	n := s.p.Node()
	rt := actor.NewReplyTo(env.GetReplyAddress(), env.GetRequestId())
	if err := n.Forward(to.PID, env, rt); err != nil {
		n.Reply(rt, nil, err)
	}
	return true
}
