package actor

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/spawnpb"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// SpawnOn starts a process on the node at address (a transport address,
// this node's own included) from the factory that node allowed under name
// (AllowSpawn), passing it args, and returns its PID once its Init has
// returned, as Erlang's spawn/4 on another node. opts are WithName (a name
// registered on that node) and WithTrapExit.
//
// Errors, for errors.Is: ErrUnknownSpawn (nothing allowed under name
// there), ErrSpawnRefused (allowed, but not for this node), ErrInit (the
// factory or Init failed; the text says how), ErrNodeDown (the node is
// unreachable, or went away before answering; at once, not at the
// deadline), ErrTimeout (ctx ended first, or the node's CallTimeout without
// a deadline). The node kills a process whose Init is still running when
// the caller's time is up, so a spawn that timed out leaves nothing behind
// unless its answer was already on its way.
func (n *Node) SpawnOn(ctx context.Context, address, name string, args proto.Message, opts ...SpawnOption) (*PID, error) {
	pid, _, err := n.spawnOn(ctx, nil, address, name, args, opts, false, false)
	return pid, err
}

// SpawnLinkOn is SpawnOn with the new process linked to p, as Erlang's
// spawn_link/4: the link exists before the process runs, so an exit of it
// right after its Init reaches p, and each end gets the other's exit
// signal (ErrNodeDown if the other's node goes away). If the spawn fails
// there is no link and no signal. It blocks p until the answer.
func (p *Process) SpawnLinkOn(ctx context.Context, address, name string, args proto.Message, opts ...SpawnOption) (*PID, error) {
	pid, _, err := p.node.spawnOn(ctx, p, address, name, args, opts, true, false)
	return pid, err
}

// SpawnMonitorOn is SpawnOn with the new process monitored by p, as
// Erlang's spawn_monitor/4: the monitor exists before the process runs,
// and p gets Down{ref, pid, reason} in HandleInfo when it exits (reason
// ErrNodeDown if its node goes away). If the spawn fails there is no
// monitor. It blocks p until the answer.
func (p *Process) SpawnMonitorOn(ctx context.Context, address, name string, args proto.Message, opts ...SpawnOption) (*PID, Ref, error) {
	return p.node.spawnOn(ctx, p, address, name, args, opts, false, true)
}

func (n *Node) spawnOn(ctx context.Context, from *Process, address, name string, args proto.Message, opts []SpawnOption, link, monitor bool) (*PID, Ref, error) {
	if n.stopping.Load() {
		return nil, 0, ErrNodeStopped
	}
	if ctx.Err() != nil {
		return nil, 0, ctxError(ctx)
	}
	var o spawnOptions
	for _, opt := range opts {
		opt(&o)
	}
	req := &spawnpb.SpawnRequest{Name: name, Register: o.name, TrapExit: o.trapExit, Link: link}
	if args != nil {
		a, err := wire.PackAny(args)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %w", ErrNotSerializable, err)
		}
		req.Args = a
	}
	var ref Ref
	if monitor {
		ref = n.newRef()
		req.MonitorRef = uint64(ref)
	}
	left := n.cfg.CallTimeout
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
	}
	if left <= 0 {
		return nil, 0, fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	}
	req.TimeoutNanos = int64(left)
	sender := n.self
	if from != nil {
		sender = from.pid
	}
	pend := n.NewPending(ctx, address, false)
	defer pend.Release()
	if address == n.addr {
		n.spawnFor(sender, pend.ReplyTo().to, req)
	} else if err := n.sendCall(sender, NewPID(address, spawnID), req, pend.ReplyTo().to); err != nil {
		return nil, 0, err
	}
	v, err := pend.Wait(ctx)
	if err != nil {
		return nil, 0, err
	}
	pid, ok := v.(*PID)
	if !ok || pid.GetAddress() == "" || pid.GetId() == "" {
		return nil, 0, fmt.Errorf("%w: the answer to a spawn is %T, not a PID", ErrBadFrame, v)
	}
	if from != nil && (link || monitor) {
		from.adopt(pid, link, ref)
	}
	return pid, ref, nil
}

// adopt records on p the link or monitor that the node of pid set up on
// its side when it started pid for p. Signals from pid that arrived
// meanwhile wait in p's mailbox (p is blocked in its spawn), so they find
// the link or monitor in place. If p was killed meanwhile, pid gets p's
// exit signal instead. For a remote pid the link or monitor request is
// sent again: it changes nothing there, but if pid's node went away
// between its answer and now, sending to it reports it down, and the link
// or monitor ends with ErrNodeDown instead of waiting forever.
func (p *Process) adopt(pid *PID, link bool, ref Ref) {
	n := p.node
	p.mu.Lock()
	if p.exited {
		reason := p.reason
		p.mu.Unlock()
		if link {
			n.exitSignal(p.pid, pid, reason, true)
		}
		if ref != 0 {
			n.demonitor(p.pid, pid, ref)
		}
		return
	}
	if link {
		p.putLink(pid)
	}
	if ref != 0 {
		p.putWatch(ref, pid)
	}
	p.mu.Unlock()
	if n.isLocal(pid) {
		return
	}
	if link {
		_ = n.sendFrame(pid.Address, &wire.Frame{From: toWire(p.pid), To: pid.Id, Body: &wire.Frame_Link{Link: &wire.Link{}}})
	}
	if ref != 0 {
		_ = n.sendFrame(pid.Address, &wire.Frame{From: toWire(p.pid), To: pid.Id,
			Body: &wire.Frame_Monitor{Monitor: &wire.Monitor{Ref: uint64(ref)}}})
	}
}
