package actor

import (
	"errors"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Link links p with pid (both ways). If pid does not exist, p gets an exit
// signal with ErrNoProcess (an Exit message when trapping exits). A local
// NamedPID links to the process holding the name now; link to a process on
// another node by its PID, not by name.
func (p *Process) Link(pid *PID) {
	n := p.node
	if t := n.local(pid); t != nil {
		pid = t.pid
	}
	p.mu.Lock()
	if p.exited {
		p.mu.Unlock()
		return
	}
	p.putLink(pid)
	p.mu.Unlock()
	if !n.isLocal(pid) {
		_ = n.sendFrame(pid.Address, &wire.Frame{From: toWire(p.pid), To: pid.Id, Body: &wire.Frame_Link{Link: &wire.Link{}}})
		return
	}
	if !n.addLink(pid.Id, p.pid) {
		p.enqueue(&exitSig{from: pid, reason: ErrNoProcess, linked: true})
	}
}

// Unlink removes the link between p and pid; no exit signal from that link
// arrives afterwards.
func (p *Process) Unlink(pid *PID) {
	p.mu.Lock()
	p.links.del(keyOf(pid))
	p.mu.Unlock()
	n := p.node
	if n.isLocal(pid) {
		n.removeLink(pid.Id, p.pid)
		return
	}
	_ = n.sendFrame(pid.Address, &wire.Frame{From: toWire(p.pid), To: pid.Id, Body: &wire.Frame_Unlink{Unlink: &wire.Link{}}})
}

// addLink records on local process id a link to other; false if id is gone.
func (n *Node) addLink(id string, other *PID) bool {
	t := n.procByID(id)
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exited {
		// A link other already had (a spawn_link's, sent again by adopt)
		// hears the true reason from finish, which may not have sent it
		// yet: an ErrNoProcess now could overtake it.
		if t.atExit == nil {
			return false
		}
		_, had := t.atExit.links.get(keyOf(other))
		return had
	}
	t.putLink(other)
	return true
}

func (n *Node) removeLink(id string, other *PID) {
	if t := n.procByID(id); t != nil {
		t.mu.Lock()
		t.links.del(keyOf(other))
		t.mu.Unlock()
	}
}

// Monitor starts monitoring pid: when it exits, p gets Down{ref, pid,
// reason} in HandleInfo, at once with ErrNoProcess if it does not exist, and
// with ErrNodeDown if its node goes away.
func (p *Process) Monitor(pid *PID) Ref {
	n := p.node
	ref := n.newRef()
	p.mu.Lock()
	if p.exited {
		p.mu.Unlock()
		return ref
	}
	p.putWatch(ref, pid)
	p.mu.Unlock()
	if !n.isLocal(pid) {
		_ = n.sendFrame(pid.Address, &wire.Frame{From: toWire(p.pid), To: pid.Id,
			Body: &wire.Frame_Monitor{Monitor: &wire.Monitor{Ref: uint64(ref)}}})
		return ref
	}
	if !n.addMonitor(pid.Id, monKey{n.addr, ref}, p.pid) {
		p.enqueue(&downSig{ref: ref, from: pid, reason: ErrNoProcess})
	}
	return ref
}

// Demonitor stops the monitor ref; no Down for it arrives afterwards.
func (p *Process) Demonitor(ref Ref) {
	p.mu.Lock()
	target, ok := p.watch.del(ref)
	p.mu.Unlock()
	if ok {
		p.node.demonitor(p.pid, target, ref)
	}
}

func (n *Node) addMonitor(id string, k monKey, watcher *PID) bool {
	t := n.procByID(id)
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exited {
		if t.atExit == nil {
			return false
		}
		_, had := t.atExit.mons.get(k) // as addLink
		return had
	}
	t.putMon(k, watcher)
	return true
}

func (n *Node) demonitor(watcher, target *PID, ref Ref) {
	if !n.isLocal(target) {
		_ = n.sendFrame(target.Address, &wire.Frame{From: toWire(watcher), To: target.Id,
			Body: &wire.Frame_Demonitor{Demonitor: &wire.Monitor{Ref: uint64(ref)}}})
		return
	}
	n.removeMonitor(target.Id, monKey{watcher.Address, ref})
}

func (n *Node) removeMonitor(id string, k monKey) {
	if t := n.procByID(id); t != nil {
		t.mu.Lock()
		t.mons.del(k)
		t.mu.Unlock()
	}
}

// down tells watcher that from, monitored with ref, exited.
func (n *Node) down(from, watcher *PID, ref Ref, reason error) {
	if n.isLocal(watcher) {
		if w := n.local(watcher); w != nil {
			w.enqueue(&downSig{ref: ref, from: from, reason: reason})
		}
		return
	}
	_ = n.sendFrame(watcher.Address, &wire.Frame{From: toWire(from), To: watcher.Id,
		Body: &wire.Frame_Down{Down: &wire.Down{Ref: uint64(ref), Reason: encodeError(reason)}}})
}

// Exit sends an exit signal with reason to pid, as erlang:exit/2: ErrKill
// kills it at once even if it traps exits; a nil reason is ignored unless it
// traps exits; any other reason ends it unless it traps exits, in which case
// it gets an Exit message.
func (p *Process) Exit(pid *PID, reason error) { p.node.exitSignal(p.pid, pid, reason, false) }

// Exit sends an exit signal from the node itself to pid; see Process.Exit.
func (n *Node) Exit(pid *PID, reason error) { n.exitSignal(n.self, pid, reason, false) }

func (n *Node) exitSignal(from, to *PID, reason error, linked bool) {
	if !n.isLocal(to) {
		_ = n.sendFrame(to.Address, &wire.Frame{From: toWire(from), To: to.Id,
			Body: &wire.Frame_Exit{Exit: &wire.Exit{Reason: encodeError(reason), Linked: linked}}})
		return
	}
	t := n.local(to)
	if t == nil {
		return
	}
	if !linked && errors.Is(reason, ErrKill) { // only exit/2 with kill is untrappable
		t.kill(ErrKilled)
		return
	}
	t.enqueue(&exitSig{from: from, reason: reason, linked: linked})
}

// handleExit runs on the receiving process's goroutine.
func (p *Process) handleExit(s *exitSig) {
	if s.linked {
		p.mu.Lock()
		_, ok := p.links.del(keyOf(s.from))
		p.mu.Unlock()
		if !ok {
			return // unlinked meanwhile
		}
	}
	switch {
	case s.from.Equal(p.node.halt):
		p.exit(s.reason) // StopProcess or Node.Stop: terminal, whatever the reason
	case p.trapExit && s.from.Equal(p.parent):
		p.exit(s.reason) // gen_server: the parent's exit signal is terminal
	case p.trapExit:
		p.server.HandleInfo(p, Exit{From: s.from, Reason: s.reason})
	case s.reason == nil:
		// a normal exit signal does not end a process that does not trap
	default:
		p.exit(s.reason)
	}
}

func (p *Process) handleDown(s *downSig) {
	p.mu.Lock()
	_, ok := p.watch.del(s.ref)
	p.mu.Unlock()
	if ok {
		p.server.HandleInfo(p, Down{Ref: s.ref, PID: s.from, Reason: s.reason})
	}
}

// nodeDown handles the loss of the connection to the node at addr: links to
// its processes break with ErrNodeDown, monitors of them fire, monitors held
// by them are dropped, and calls waiting on them fail, the calls this node
// forwarded there for others included (see forwardLog).
func (n *Node) nodeDown(addr string) { n.nodeLost(addr, &NodeDownError{Address: addr}) }

// nodeLost is nodeDown with reason, which wraps ErrNodeDown.
func (n *Node) nodeLost(addr string, reason error) {
	if addr == n.addr {
		return
	}
	n.pending.failAddr(addr, reason)
	n.answerForwarded(addr, reason)
	n.procs.Range(func(_, v any) bool {
		p := v.(*Process)
		var sigs []any
		p.mu.Lock()
		p.links.delFunc(func(k pidKey, pid *PID) bool {
			if k.addr != addr {
				return false
			}
			sigs = append(sigs, &exitSig{from: pid, reason: reason})
			return true
		})
		for ref, pid := range p.watch.all() {
			if pid.Address == addr {
				sigs = append(sigs, &downSig{ref: ref, from: pid, reason: reason})
			}
		}
		p.mons.delFunc(func(k monKey, _ *PID) bool { return k.addr == addr })
		p.mu.Unlock()
		for _, s := range sigs {
			p.enqueue(s)
		}
		return true
	})
}

// putLink, putMon and putWatch record a link, a monitor of p and a monitor
// p holds, under p.mu.
func (p *Process) putLink(pid *PID)              { p.links.put(keyOf(pid), pid) }
func (p *Process) putMon(k monKey, watcher *PID) { p.mons.put(k, watcher) }
func (p *Process) putWatch(ref Ref, pid *PID)    { p.watch.put(ref, pid) }
