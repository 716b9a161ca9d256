package supervisor

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/inspectpb"
)

// Info describes a supervisor, from Inspect.
type Info struct {
	Strategy Strategy
	// Restarts counts the restarts the supervisor applied since it
	// started (one per child exit that made it restart, whatever the
	// strategy took down with it).
	Restarts uint64
	Children []ChildInfo // in start order
}

// ChildInfo describes one child of a supervisor, from Inspect.
type ChildInfo struct {
	Child
	// Restarts counts the exits of this child that made the supervisor
	// restart.
	Restarts uint64
}

// Inspect describes the supervisor sup, on this node or another (unlike
// WhichChildren, whose request is a Go value): its strategy, its children
// and their restarts. A supervisor that is gone is actor.ErrNoProcess, one
// whose node is gone actor.ErrNodeDown, a process that is not a supervisor
// actor.ErrUnhandled.
func Inspect(ctx context.Context, c actor.Caller, sup *actor.PID) (Info, error) {
	v, err := c.Call(ctx, sup, &inspectpb.SupervisorInspect{})
	if err != nil {
		return Info{}, err
	}
	m, ok := v.(*inspectpb.SupervisorInfo)
	if !ok {
		return Info{}, fmt.Errorf("%w: %s answered %T", actor.ErrUnhandled, actor.FormatPID(sup), v)
	}
	info := Info{Strategy: Strategy(m.GetStrategy()), Restarts: m.GetRestarts()}
	for _, ch := range m.GetChildren() {
		info.Children = append(info.Children, ChildInfo{
			Child:    Child{ID: ch.GetId(), PID: ch.GetPid(), Type: ChildType(ch.GetType()), Restart: Restart(ch.GetRestart())},
			Restarts: ch.GetRestarts(),
		})
	}
	return info, nil
}

func (s *server) inspect() *inspectpb.SupervisorInfo {
	m := &inspectpb.SupervisorInfo{Strategy: int32(s.spec.Strategy), Restarts: s.restarts}
	for _, c := range s.children {
		m.Children = append(m.Children, &inspectpb.SupervisedChild{Id: c.spec.ID, Pid: c.pid,
			Type: int32(c.spec.Type), Restart: int32(c.spec.Restart), Restarts: c.restarts})
	}
	return m
}
