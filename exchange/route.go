package exchange

import (
	"fmt"
	"hash/fnv"
	"sync/atomic"

	"google.golang.org/protobuf/proto"
)

// router picks the targets of requests by the exchange's strategy. Pure
// logic over the member table, on the exchange's goroutine; the strategies
// that need no user code also route from a snapshot of the table on other
// goroutines (see direct.go), sharing the round-robin positions.
type router struct {
	spec     *Spec
	m        *members
	table    atomic.Pointer[routeTable] // the snapshot of m, rebuilt by refresh
	bindings map[uint64]Member          // sticky signature -> controller connection
	buf      []Member
}

func newRouter(spec *Spec, m *members) *router {
	return &router{spec: spec, m: m, bindings: map[uint64]Member{}}
}

// route returns the targets of req, or a redirect, or an error.
func (r *router) route(req *Request) (targets []Member, redirect string, err error) {
	group := r.m.group(req.ServiceTag, r.buf)
	r.buf = group
	if r.spec.Strategy == Func {
		d := r.spec.Route(req, group)
		switch {
		case d.Reject != nil:
			return nil, "", fmt.Errorf("%w: %w", ErrRejected, d.Reject)
		case d.Redirect != "":
			return nil, d.Redirect, nil
		case len(d.Targets) == 0:
			return nil, "", noController(req)
		}
		return d.Targets, "", nil
	}
	if len(group) == 0 {
		return nil, "", noController(req)
	}
	switch r.spec.Strategy {
	case Broadcast:
		return group, "", nil
	case RoundRobin, LeaderRoundRobin:
		i := r.refresh().cursor[req.ServiceTag].Add(1) - 1
		return group[i%uint64(len(group)) : i%uint64(len(group))+1], "", nil
	case LeaderOnly:
		for i, x := range group {
			if samePID(x.PID, r.m.leader) {
				return group[i : i+1], "", nil
			}
		}
		return nil, "", fmt.Errorf("%w: the leader is not in service group %q", ErrNoController, req.ServiceTag)
	case Sticky, StickyFunc:
		var h uint64
		if r.spec.Strategy == StickyFunc {
			h = r.spec.Hash(req)
		} else {
			h = signature(req)
		}
		if b, ok := r.bindings[h]; ok {
			for i, x := range group {
				if samePID(x.PID, b.PID) && x.ConnTag == b.ConnTag {
					return group[i : i+1], "", nil
				}
			}
		}
		pick := group[h%uint64(len(group))]
		if len(r.bindings) >= maxBindings {
			// Bounded memory: forget the bindings; each signature picks the
			// same controller again (h mod the group) while the group is
			// unchanged, so only signatures rebound after a death move.
			clear(r.bindings)
		}
		r.bindings[h] = pick
		return []Member{pick}, "", nil
	}
	return nil, "", fmt.Errorf("%w: strategy %v", ErrInvalidSpec, r.spec.Strategy)
}

// forget drops the sticky bindings of connections that are gone; their
// signatures are bound anew on their next request.
func (r *router) forget(gone []Member) {
	for h, b := range r.bindings {
		for _, g := range gone {
			if samePID(b.PID, g.PID) && b.ConnTag == g.ConnTag {
				delete(r.bindings, h)
			}
		}
	}
}

// maxBindings bounds the sticky table.
const maxBindings = 1 << 16

func noController(req *Request) error {
	if req.ServiceTag != "" {
		return fmt.Errorf("%w: none in service group %q", ErrNoController, req.ServiceTag)
	}
	return ErrNoController
}

// signature hashes a request's routing key, or else its payload.
func signature(req *Request) uint64 {
	h := fnv.New64a()
	if req.RoutingKey != "" {
		h.Write([]byte(req.RoutingKey))
		return h.Sum64()
	}
	if m, ok := req.Msg.(proto.Message); ok {
		if b, err := (proto.MarshalOptions{Deterministic: true}).Marshal(m); err == nil {
			h.Write([]byte(proto.MessageName(m)))
			h.Write(b)
			return h.Sum64()
		}
	}
	fmt.Fprintf(h, "%T:%v", req.Msg, req.Msg)
	return h.Sum64()
}
