package exchange

import (
	"sync/atomic"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// routeTable is a snapshot of the member table, for routing off the
// exchange's goroutine: the connections of every service group and the
// leader. Each group keeps its round-robin position, which the exchange's
// goroutine shares; the group of all connections (service tag "", the
// common case) is found without a map lookup.
type routeTable struct {
	version uint64
	all     *routeGroup
	groups  map[string]*routeGroup // by service tag, but ""
	leader  *actor.PID
}

// routeGroup is a service group's connections and its round-robin position.
type routeGroup struct {
	members []Member
	cursor  *atomic.Uint64
}

// group is service group tag ("" for all), or nil if it has no connection.
func (t *routeTable) group(tag string) *routeGroup {
	if tag == "" {
		return t.all
	}
	return t.groups[tag]
}

// refresh rebuilds the snapshot if the member table changed since, and
// returns it. The exchange's goroutine calls it after every change; the
// round-robin positions carry over.
func (r *router) refresh() *routeTable {
	old := r.table.Load()
	if old != nil && old.version == r.m.version {
		return old
	}
	t := &routeTable{version: r.m.version, groups: map[string]*routeGroup{}, leader: r.m.leader}
	add := func(tag string, x Member) {
		g := t.group(tag)
		if g == nil {
			g = &routeGroup{cursor: new(atomic.Uint64)}
			if was := old.groupOrNil(tag); was != nil {
				g.cursor = was.cursor
			}
			if tag == "" {
				t.all = g
			} else {
				t.groups[tag] = g
			}
		}
		g.members = append(g.members, x)
	}
	for _, x := range r.m.list {
		add("", x)
		if x.ServiceTag != "" {
			add(x.ServiceTag, x)
		}
	}
	r.table.Store(t)
	return t
}

// groupOrNil is t.group(tag), and nil if t is.
func (t *routeTable) groupOrNil(tag string) *routeGroup {
	if t == nil {
		return nil
	}
	return t.group(tag)
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

// routeDirect routes a request off the exchange's goroutine, from the
// router's snapshot, to one controller: a request from another node on the
// connection's reader goroutine (its envelope goes on as it arrived, the
// payload not decoded), or one that a client of this node forwarded, on
// the client's goroutine. Anything else — another message, a request for
// every reply, a keyed one (it comes back through the exchange, see
// keyed.go), one without payload, an expired or oversized one, a group
// without controllers — it leaves to the exchange's goroutine, which
// answers it as HandleCall always did. The snapshot changes when the
// exchange's goroutine handles a join, a leave or a death: until then a
// controller that has just died may still be picked, and the client gets
// ErrNoProcess from its node, as when it dies just after being picked.
func (s *server) routeDirect(msg any, rt actor.ReplyTo) bool {
	switch m := msg.(type) {
	case *wire.Envelope:
		return s.routeEnvelope(m)
	case *Request:
		return s.routeLocal(m, rt)
	}
	return false
}

// routeLocal routes a request from a client of this node (rt is its
// ReplyTo, as the node's hook passes it on). The controller gets the
// client's *Request itself, or a copy if its connection tag differs.
func (s *server) routeLocal(req *Request, rt actor.ReplyTo) bool {
	if req.wantAll || req.IdempotencyKey != "" || req.replyTo.Ref() != rt.Ref() || req.replyTo.Address() != rt.Address() {
		return false
	}
	if !req.Deadline.IsZero() && s.arrival.unixNano() > req.Deadline.UnixNano() {
		return false
	}
	to, ok := s.pick(req.ServiceTag)
	if !ok {
		return false
	}
	r := req
	if r.ConnTag != to.ConnTag {
		c := *req
		c.ConnTag = to.ConnTag
		r = &c
	}
	s.routed.Add(1)
	n := s.p.Node()
	if err := r.forward(n, to.PID, rt); err != nil {
		n.Reply(rt, nil, err)
	}
	return true
}

// routeEnvelope routes a request that came from another node.
func (s *server) routeEnvelope(env *wire.Envelope) bool {
	if env.GetWantAll() || env.GetRequestId() == 0 || env.GetIdempotencyKey() != "" || env.GetPayload() == nil ||
		len(env.GetPayload().GetValue()) > s.spec.MaxPayload {
		return false
	}
	if d := env.GetDeadlineUnixNano(); d != 0 && s.arrival.unixNano() > d {
		return false
	}
	to, ok := s.pick(env.GetServiceTag())
	if !ok {
		return false
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

// pick chooses the controller connection of service group tag from the
// snapshot, as the exchange's goroutine would: false if there is none.
func (s *server) pick(tag string) (Member, bool) {
	t := s.router.table.Load()
	if t == nil {
		return Member{}, false
	}
	g := t.group(tag)
	if g == nil {
		return Member{}, false
	}
	if s.spec.Strategy == LeaderOnly {
		for _, x := range g.members {
			if samePID(x.PID, t.leader) {
				return x, true
			}
		}
		return Member{}, false
	}
	return g.members[(g.cursor.Add(1)-1)%uint64(len(g.members))], true
}
