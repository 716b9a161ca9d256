package actor

import (
	"fmt"

	pa "github.com/asynkron/protoactor-go/actor"
)

// WithMailboxLimit bounds the messages from Send and Cast waiting in the
// new process's mailbox to limit (values below 1 mean no bound, the
// default). A Send or Cast from this node to the process while limit
// messages wait is not queued and returns ErrOverloaded; one from another
// node is dropped on arrival. Both are counted in Stats.MailboxFull. Calls,
// replies, signals (exits, downs) and what the process sends itself (its
// timers: SendAfter) are never refused: a caller waits for its answer, so
// calls bound themselves.
//
// It is for processes that a fast producer can outrun: an exchange's
// inbox, a subscriber. Backlog reads how many messages wait.
func WithMailboxLimit(limit int) SpawnOption {
	return func(o *spawnOptions) { o.mailboxLimit = max(limit, 0) }
}

// Backlog returns how many messages wait in the mailbox of the local
// process pid (the one being handled not included), and false if pid is no
// live process of this node.
func (n *Node) Backlog(pid *PID) (int, bool) {
	p := n.local(pid)
	if p == nil {
		return 0, false
	}
	return p.backlog(), true
}

// mailboxProducer makes the process's mailbox protoactor's unbounded one,
// keeping it so that its length can be read.
func (p *Process) mailboxProducer() pa.MailboxProducer {
	return func() pa.Mailbox {
		mb := pa.Unbounded()()
		p.mailbox = mb
		return mb
	}
}

func (p *Process) backlog() int {
	if p.mailbox == nil {
		return 0
	}
	return p.mailbox.UserMessageCount()
}

// full reports whether a Send or Cast to p must be refused.
func (p *Process) full() bool {
	return p.limit > 0 && p.mailbox.UserMessageCount() >= p.limit
}

// admit queues a Send (cast false) or Cast from to p unless its mailbox
// is full, which is counted and returned as ErrOverloaded. What p sends
// itself (its timers, its kicks) is always taken.
func (p *Process) admit(from *PID, msg any, cast bool) error {
	if p.full() && from != p.pid {
		p.node.stats.mailboxFull.Add(1)
		return fmt.Errorf("%w: the mailbox of %s holds %d messages", ErrOverloaded, FormatPID(p.pid), p.limit)
	}
	if cast {
		p.enqueue(&castMsg{msg: msg})
	} else {
		p.enqueue(guard(msg))
	}
	return nil
}
