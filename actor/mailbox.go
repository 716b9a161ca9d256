package actor

import (
	"fmt"
	"math"
	"runtime/debug"

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
	return func(o *spawnOptions) { o.mailboxLimit = int32(min(max(limit, 0), math.MaxInt32)) }
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

// newMailbox makes a process's mailbox: protoactor's unbounded one, about
// 410 B idle and no allocation per message. The lock-free one is 260 B but
// allocates a queue node per message; a bounded one is a padded ring of
// over 1 KB (BenchmarkIdleMailbox, BenchmarkIdleActor).
var newMailbox = pa.Unbounded()

// openMailbox gives p its protoactor mailbox, run by the node's dispatcher
// with p as its invoker, and suspends it: messages queue from now on, and
// run once startMailbox has queued Init ahead of them.
func (p *Process) openMailbox() {
	mb := newMailbox()
	mb.RegisterHandlers((*invoker)(p), p.node.disp)
	mb.PostSystemMessage(suspendMailbox)
	p.mbox = mb
}

// The system messages of a process's mailbox. The mailbox handles suspend
// and resume itself, and every system message before any user message:
// started runs Init before the messages that arrived while suspended.
var (
	suspendMailbox = &pa.SuspendMailbox{}
	resumeMailbox  = &pa.ResumeMailbox{}
	startedMsg     = &started{}
)

// started is the system message that runs Init.
type started struct{}

// startMailbox runs Init, then what waits in the mailbox.
func (p *Process) startMailbox() {
	p.mbox.PostSystemMessage(startedMsg)
	p.resumeMailbox()
}

func (p *Process) resumeMailbox() { p.mbox.PostSystemMessage(resumeMailbox) }

// invoker is the process as protoactor's MessageInvoker, so that its
// methods stay out of Process's API.
type invoker Process

var (
	_ pa.MessageInvoker = (*invoker)(nil)
	_ pa.Dispatcher     = (*dispatcher)(nil)
)

// InvokeSystemMessage implements protoactor's MessageInvoker: started is
// the only system message the mailbox passes on.
func (i *invoker) InvokeSystemMessage(m any) {
	p := (*Process)(i)
	if _, ok := m.(*started); ok && !p.dead.Load() { // dead: a start aborted before Init
		p.init()
	}
}

// InvokeUserMessage implements protoactor's MessageInvoker.
func (i *invoker) InvokeUserMessage(m any) { (*Process)(i).receive(m) }

// EscalateFailure implements protoactor's MessageInvoker: the mailbox
// calls it with what a message's handling panicked with outside the
// callbacks (which recover their own panics, see dispatch). The process
// crashes with it, as from a callback; its mailbox goes on draining.
func (i *invoker) EscalateFailure(reason any, _ any) {
	p := (*Process)(i)
	p.node.stats.crashes.Add(1)
	err := &PanicError{Value: reason, Stack: debug.Stack()}
	p.node.log.Error("process crashed", "pid", FormatPID(p.pid), "reason", err, "stack", string(err.Stack))
	p.exit(err)
}

// enqueue puts msg in the mailbox unless the process has exited; holding the
// read lock orders it before any exit, so the drain sees it.
func (p *Process) enqueue(msg any) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.exited {
		return false
	}
	p.mbox.PostUserMessage(msg)
	return true
}

func (p *Process) backlog() int { return p.mbox.UserMessageCount() }

// full reports whether a Send or Cast to p must be refused.
func (p *Process) full() bool {
	return p.limit > 0 && p.mbox.UserMessageCount() >= int(p.limit)
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
