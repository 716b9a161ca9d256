package exchange

import (
	"fmt"
	"hash"
	"hash/fnv"
	"slices"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
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
		tag := req.ServiceTag // Route may rewrite the request
		d := r.spec.Route(req, group)
		if err := r.check(&d, tag); err != nil {
			return nil, "", err
		}
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
		i := r.refresh().group(req.ServiceTag).cursor.Add(1) - 1
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

// check reports what is wrong with a Func strategy's decision for a
// request of service group tag, wrapping ErrBadDecision: more than one of
// its fields set, or a target that is not a connection of the group in the
// member table (by PID and connection tag: the table itself, not the slice
// Route was shown, which it may have changed).
func (r *router) check(d *Decision, tag string) error {
	set := 0
	for _, ok := range []bool{len(d.Targets) > 0, d.Redirect != "", d.Reject != nil} {
		if ok {
			set++
		}
	}
	if set > 1 {
		return fmt.Errorf("%w: %d of targets, redirect and reject set; want one (targets %d, redirect %q, reject %v)",
			ErrBadDecision, set, len(d.Targets), d.Redirect, d.Reject)
	}
	for _, t := range d.Targets {
		if !slices.ContainsFunc(r.m.list, func(x Member) bool {
			return (tag == "" || x.ServiceTag == tag) && samePID(x.PID, t.PID) && x.ConnTag == t.ConnTag
		}) {
			return fmt.Errorf("%w: target %s (connection %q) is not a member of service group %q",
				ErrBadDecision, actor.FormatPID(t.PID), t.ConnTag, tag)
		}
	}
	return nil
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
	writePayload(h, req.Msg)
	return h.Sum64()
}

// writePayload writes msg to h: a protobuf message as its name and
// deterministic encoding, anything else as its type and value.
func writePayload(h hash.Hash64, msg any) {
	if m, ok := msg.(proto.Message); ok {
		if b, err := (proto.MarshalOptions{Deterministic: true}).Marshal(m); err == nil {
			h.Write([]byte(proto.MessageName(m)))
			h.Write(b)
			return
		}
	}
	fmt.Fprintf(h, "%T:%v", msg, msg)
}
