package supervisor

import (
	"context"
	"fmt"
	"slices"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/inspectpb"
)

// Start starts a top-level supervisor on n (not linked to any process). It
// returns once every child has started, in order; if one fails, those
// already started are stopped in reverse order and the error wraps
// ErrStartChild and the child's error. ctx bounds the initial start.
func Start(ctx context.Context, n *actor.Node, spec Spec, opts ...actor.SpawnOption) (*actor.PID, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return n.Spawn(ctx, newServer(ctx, spec), opts...)
}

// StartLink starts a supervisor linked to p: a child supervisor in a tree.
func StartLink(ctx context.Context, p *actor.Process, spec Spec, opts ...actor.SpawnOption) (*actor.PID, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return p.SpawnLink(ctx, newServer(ctx, spec), opts...)
}

// Requests a supervisor answers through Call. They are Go values, so the
// functions below work on supervisors of the caller's own node.
type (
	startChildReq     struct{ spec ChildSpec }
	startWithReq      struct{ args any }
	terminateChildReq struct {
		id  string
		pid *actor.PID
	}
	restartChildReq  struct{ id string }
	deleteChildReq   struct{ id string }
	whichChildrenReq struct{}
	countChildrenReq struct{}
)

// Child describes one child, as WhichChildren returns it.
type Child struct {
	ID      string
	PID     *actor.PID // nil when not running
	Type    ChildType
	Restart Restart
}

// Counts are what CountChildren returns.
type Counts struct {
	Specs       int // child specs (children of a SimpleOneForOne supervisor: one each)
	Active      int // running children
	Supervisors int // specs of type supervisor
	Workers     int // specs of type worker
}

// StartChild adds spec to sup's children (at the end) and starts it.
func StartChild(ctx context.Context, c actor.Caller, sup *actor.PID, spec ChildSpec) (*actor.PID, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return callPID(ctx, c, sup, startChildReq{spec})
}

// StartChildWith starts a child of a SimpleOneForOne supervisor from its
// template, passing args to the template's Start.
func StartChildWith(ctx context.Context, c actor.Caller, sup *actor.PID, args any) (*actor.PID, error) {
	return callPID(ctx, c, sup, startWithReq{args})
}

// TerminateChild stops the child id, keeping its spec (dropping it for a
// temporary child).
func TerminateChild(ctx context.Context, c actor.Caller, sup *actor.PID, id string) error {
	_, err := c.Call(ctx, sup, terminateChildReq{id: id})
	return err
}

// TerminateChildPID stops a child of a SimpleOneForOne supervisor.
func TerminateChildPID(ctx context.Context, c actor.Caller, sup *actor.PID, pid *actor.PID) error {
	_, err := c.Call(ctx, sup, terminateChildReq{pid: pid})
	return err
}

// RestartChild starts again a child that is not running but whose spec is
// kept (after TerminateChild, say).
func RestartChild(ctx context.Context, c actor.Caller, sup *actor.PID, id string) (*actor.PID, error) {
	return callPID(ctx, c, sup, restartChildReq{id})
}

// DeleteChild removes the spec of a child that is not running.
func DeleteChild(ctx context.Context, c actor.Caller, sup *actor.PID, id string) error {
	_, err := c.Call(ctx, sup, deleteChildReq{id})
	return err
}

// WhichChildren lists sup's children in start order.
func WhichChildren(ctx context.Context, c actor.Caller, sup *actor.PID) ([]Child, error) {
	v, err := c.Call(ctx, sup, whichChildrenReq{})
	if err != nil {
		return nil, err
	}
	return v.([]Child), nil
}

// CountChildren counts sup's children.
func CountChildren(ctx context.Context, c actor.Caller, sup *actor.PID) (Counts, error) {
	v, err := c.Call(ctx, sup, countChildrenReq{})
	if err != nil {
		return Counts{}, err
	}
	return v.(Counts), nil
}

func callPID(ctx context.Context, c actor.Caller, sup *actor.PID, req any) (*actor.PID, error) {
	v, err := c.Call(ctx, sup, req)
	if err != nil {
		return nil, err
	}
	pid, _ := v.(*actor.PID)
	return pid, nil
}

// HandleCall answers the requests above.
func (s *server) HandleCall(p *actor.Process, msg any) (any, error) {
	sofo := s.spec.Strategy == SimpleOneForOne
	switch m := msg.(type) {
	case startChildReq:
		if sofo {
			return nil, fmt.Errorf("%w: use StartChildWith", ErrSimpleOneForOne)
		}
		if i := s.indexID(m.spec.ID); i >= 0 {
			if s.children[i].pid != nil {
				return nil, fmt.Errorf("%w: %q is running as %s", ErrAlreadyPresent, m.spec.ID, actor.FormatPID(s.children[i].pid))
			}
			return nil, fmt.Errorf("%w: %q", ErrAlreadyPresent, m.spec.ID)
		}
		c := s.newChild(m.spec, nil)
		if err := s.start(context.Background(), p, c); err != nil {
			return nil, err
		}
		s.children = append(s.children, c)
		return c.pid, nil
	case startWithReq:
		if !sofo {
			return nil, fmt.Errorf("%w: StartChildWith needs simple_one_for_one", ErrSimpleOneForOne)
		}
		c := s.newChild(s.spec.Children[0], m.args)
		if err := s.start(context.Background(), p, c); err != nil {
			return nil, err
		}
		if c.pid != nil {
			s.children = append(s.children, c)
		}
		return c.pid, nil
	case terminateChildReq:
		i := s.indexID(m.id)
		if m.pid != nil || sofo {
			if !sofo {
				return nil, fmt.Errorf("%w: terminate by PID needs simple_one_for_one", ErrSimpleOneForOne)
			}
			i = s.indexPID(m.pid)
		}
		if i < 0 {
			return nil, ErrNotFound
		}
		c := s.children[i]
		if c.pid != nil {
			s.shutdown(p, c)
		}
		if sofo || c.spec.Restart == Temporary {
			s.children = slices.Delete(s.children, i, i+1)
		}
		return nil, nil
	case restartChildReq, deleteChildReq:
		if sofo {
			return nil, ErrSimpleOneForOne
		}
		id := ""
		if r, ok := m.(restartChildReq); ok {
			id = r.id
		} else {
			id = m.(deleteChildReq).id
		}
		i := s.indexID(id)
		if i < 0 {
			return nil, ErrNotFound
		}
		c := s.children[i]
		if c.pid != nil {
			return nil, fmt.Errorf("%w: %q", ErrRunning, id)
		}
		if _, del := m.(deleteChildReq); del {
			s.children = slices.Delete(s.children, i, i+1)
			return nil, nil
		}
		if err := s.start(context.Background(), p, c); err != nil {
			return nil, err
		}
		return c.pid, nil
	case whichChildrenReq:
		out := make([]Child, len(s.children))
		for i, c := range s.children {
			out[i] = Child{ID: c.spec.ID, PID: c.pid, Type: c.spec.Type, Restart: c.spec.Restart}
		}
		return out, nil
	case countChildrenReq:
		var n Counts
		for _, c := range s.children {
			n.Specs++
			if c.pid != nil {
				n.Active++
			}
			if c.spec.Type == TypeSupervisor {
				n.Supervisors++
			} else {
				n.Workers++
			}
		}
		return n, nil
	case *inspectpb.SupervisorInspect:
		return s.inspect(), nil
	}
	return nil, actor.ErrUnhandled
}
