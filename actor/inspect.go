package actor

import (
	"context"
	"fmt"
	"maps"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Inspector is what a Server may implement to show its own state to
// operators (Ergo's HandleInspect): InspectProcess returns what
// HandleInspect returns, called on the process's own goroutine between
// two messages, so it may read the server's fields without locks. Keep it
// cheap and free of secrets: anyone holding the cluster's cookie can ask.
// A panic in it is a crash of the process, as in any callback.
type Inspector interface {
	HandleInspect(p *Process) map[string]string
}

// ProcessInfo describes a process, from InspectProcess.
type ProcessInfo struct {
	PID      *PID
	Name     string // registered name, "" if none
	Server   string // the Go type of its Server
	Parent   *PID   // the process that spawned it linked, if any
	Links    int
	Monitors int // processes that monitor it
	TrapExit bool
	// State is what its Server's HandleInspect returned (nil if it is not
	// an Inspector).
	State map[string]string
}

// InspectProcess describes the process pid, on this node or another: its
// name, links and monitors, and, if its Server is an Inspector, its
// HandleInspect. The process answers between two messages, as it would
// a call. A process that is gone is ErrNoProcess, one whose node is gone
// ErrNodeDown.
func (n *Node) InspectProcess(ctx context.Context, pid *PID) (ProcessInfo, error) {
	v, err := n.Call(ctx, pid, &wire.InspectProcess{})
	if err != nil {
		return ProcessInfo{}, err
	}
	pi, ok := v.(*wire.ProcessInfo)
	if !ok {
		return ProcessInfo{}, fmt.Errorf("%w: %s answered an inspection with %T", ErrUnhandled, FormatPID(pid), v)
	}
	return ProcessInfo{
		PID: NewPID(pid.Address, pi.GetId()), Name: pi.GetName(), Server: pi.GetServer(),
		Parent: fromWire(pi.GetParent()), Links: int(pi.GetLinks()), Monitors: int(pi.GetMonitors()),
		TrapExit: pi.GetTrapExit(), State: pi.GetState(),
	}, nil
}

// inspect is the runtime's answer to an InspectProcess, on p's goroutine.
func (p *Process) inspect() *wire.ProcessInfo {
	p.mu.RLock()
	pi := &wire.ProcessInfo{Id: p.pid.Id, Name: p.name, Server: fmt.Sprintf("%T", p.server),
		Links: uint32(p.links.len()), Monitors: uint32(p.mons.len()), TrapExit: p.trapExit}
	p.mu.RUnlock()
	if p.parent != nil {
		pi.Parent = toWire(p.parent)
	}
	if in, ok := p.server.(Inspector); ok {
		pi.State = maps.Clone(in.HandleInspect(p))
	}
	return pi
}
