package actor

import "strings"

// Local is a handle to one process of this node, found once by its PID:
// a sender that sends it many messages (an exchange to its subscribers, a
// task queue to its workers) skips the look-up of the process by id that
// every Send does. A Send through it is Send to its PID: a message to a
// process that has exited is dropped, one beyond its mailbox limit is
// refused with ErrOverloaded. The zero Local is no process. A Local is a
// value, safe for concurrent use.
type Local struct{ p *Process }

// Local returns a handle to the live process pid of this node, and false
// if there is none. A NamedPID has none: its name is resolved anew for
// every message, and a handle would keep the process that held it.
func (n *Node) Local(pid *PID) (Local, bool) {
	if pid == nil || strings.HasPrefix(pid.Id, namedPrefix) {
		return Local{}, false
	}
	p := n.local(pid)
	if p == nil {
		return Local{}, false
	}
	return Local{p}, true
}

// Send sends msg to the process's HandleInfo from process from (nil: from
// its node), as Process.Send or Node.Send to its PID.
func (l Local) Send(from *Process, msg any) error {
	if l.p == nil {
		return ErrNoProcess
	}
	n := l.p.node
	if n.stopping.Load() {
		return ErrNodeStopped
	}
	if l.p.dead.Load() {
		return nil
	}
	sender := n.self
	if from != nil {
		sender = from.pid
	}
	return l.p.admit(sender, msg, false)
}

// Backlog is Node.Backlog of the process: the messages waiting in its
// mailbox, and false once it has exited.
func (l Local) Backlog() (int, bool) {
	if l.p == nil || l.p.dead.Load() {
		return 0, false
	}
	return l.p.backlog(), true
}

// Alive reports whether the process has not exited.
func (l Local) Alive() bool { return l.p != nil && !l.p.dead.Load() }

// PID is the process's PID (nil for the zero Local).
func (l Local) PID() *PID {
	if l.p == nil {
		return nil
	}
	return l.p.pid
}
