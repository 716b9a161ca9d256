package actor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	pa "github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Process is a running process as its own callbacks see it: Self, the node,
// and the operations that need a sender (Call, Monitor, Link, SpawnLink, …).
// Its methods may only be used from the process's own callbacks.
//
// Its mailbox and its scheduling are protoactor's (mailbox.go); exits,
// links and monitors are this package's own so that exit reasons survive
// and no message is lost at exit: a process that has exited answers every
// call still in its mailbox with ErrNoProcess. An idle process is this
// struct, its PID, its protoactor mailbox and its entry in the node's
// table: no goroutine, no channel (Done makes one when asked).
//
// The fields are ordered to fit the 224 B size class; see
// TestProcessSize.
type Process struct {
	node   *Node
	pid    *PID
	server Server
	seq    uint64       // the number in the id: spawn order, for Stop
	parent *PID         // the process that spawned this one linked, if any
	initCh chan error   // Init's result, for Spawn; nil once sent
	reason error        // exit reason, readable once exited
	mu     sync.RWMutex // guards the fields below up to atExit, and the enqueue-vs-exit race
	dead   atomic.Bool  // exited; mirrors exited for the lock-free check
	limit  int32        // WithMailboxLimit, 0 for none
	exited bool
	closed bool // exited and told: done is closed, or Done returns a closed one
	// Owned by the process's runs (with stopReason and cur below).
	trapExit bool
	stopReq  bool
	deferred bool          // cur will be answered later
	mbox     pa.Mailbox    // protoactor's, set before the process is findable
	done     chan struct{} // made by the first Done, closed at exit
	name     string
	links    few[pidKey, *PID] // links, both directions
	mons     few[monKey, *PID] // processes that monitor this one
	watch    few[Ref, *PID]    // monitors this process holds
	// atExit holds the links and monitors finish is telling, once it has
	// taken them: a link or monitor request that races with the telling
	// finds its own there and waits for the true reason (signals.go).
	atExit *exitPeers
	direct atomic.Pointer[DirectCalls]
	// starter is set for a process that a spawn request started, until its
	// Init has returned; see spawnFor.
	starter *starter

	stopReason error
	cur        *callMsg // the call being handled
}

type pidKey struct{ addr, id string }

// exitPeers are the links and monitors of an exited process, which its
// finish tells of the exit.
type exitPeers struct {
	links few[pidKey, *PID]
	mons  few[monKey, *PID]
}

type monKey struct {
	addr string // the watcher's node
	ref  Ref
}

func keyOf(pid *PID) pidKey { return pidKey{pid.Address, pid.Id} }

// Internal messages in a process's mailbox.
type (
	callMsg struct {
		from replyTo
		msg  any
	}
	castMsg struct{ msg any }
	exitSig struct {
		from   *PID
		reason error
		linked bool // from a link: ignored if the link is already gone
	}
	downSig struct {
		ref    Ref
		from   *PID
		reason error
	}
)

// Spawn starts a process running s, with no parent. It returns once s.Init
// has returned: with the new PID, or with Init's error wrapped in ErrInit.
// If ctx ends first, the process is killed and Spawn returns ErrTimeout.
func (n *Node) Spawn(ctx context.Context, s Server, opts ...SpawnOption) (*PID, error) {
	return n.spawn(ctx, s, nil, opts)
}

// Spawn starts a process that is not linked to p; see Node.Spawn.
func (p *Process) Spawn(ctx context.Context, s Server, opts ...SpawnOption) (*PID, error) {
	return p.node.spawn(ctx, s, nil, opts)
}

// SpawnLink starts a process linked to p (Erlang's start_link): if either
// exits, the other gets the exit signal. The link exists before the new
// process's Init runs; if Init fails, the link is dropped without a signal
// and the error is returned.
func (p *Process) SpawnLink(ctx context.Context, s Server, opts ...SpawnOption) (*PID, error) {
	return p.node.spawn(ctx, s, p, opts)
}

func (n *Node) spawn(ctx context.Context, s Server, parent *Process, opts []SpawnOption) (*PID, error) {
	// Stop waits for spawns in flight before it looks for processes, so
	// none escapes it.
	n.spawning.RLock()
	pid, p, initCh, err := n.startProcess(s, parent, opts)
	n.spawning.RUnlock()
	if err != nil {
		return nil, err
	}
	select {
	case err := <-initCh:
		if err != nil {
			return nil, err
		}
		return pid, nil
	case <-ctx.Done():
		n.unlinkParent(p, parent)
		p.kill(ErrKilled)
		return nil, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
}

// startProcess creates the process and makes it reachable, in that order:
// its mailbox exists before its name or id can be found, and a parent that
// has exited gets no child. The mailbox is suspended until the process is
// findable; then Init runs, before any message queued meanwhile. Init's
// result arrives on the channel returned.
func (n *Node) startProcess(s Server, parent *Process, opts []SpawnOption) (*PID, *Process, <-chan error, error) {
	if n.stopping.Load() {
		return nil, nil, nil, ErrNodeStopped
	}
	var o spawnOptions
	for _, opt := range opts {
		opt(&o)
	}
	seq := n.ids.Add(1)
	initCh := make(chan error, 1)
	p := &Process{
		node:     n,
		pid:      NewPID(n.addr, processID(seq)),
		server:   s,
		seq:      seq,
		initCh:   initCh,
		trapExit: o.trapExit,
		limit:    o.mailboxLimit,
		starter:  o.starter,
	}
	p.openMailbox()
	if o.name != "" {
		if err := n.names.claim(o.name, p); err != nil {
			return p.abort(err)
		}
		p.mu.Lock()
		p.name = o.name
		p.mu.Unlock()
	}
	if parent != nil {
		parent.mu.Lock()
		if parent.exited {
			parent.mu.Unlock()
			return p.abort(fmt.Errorf("%w: the parent %s has exited", ErrNoProcess, FormatPID(parent.pid)))
		}
		parent.putLink(p.pid)
		parent.mu.Unlock()
		p.mu.Lock()
		p.parent = parent.pid
		p.putLink(parent.pid)
		p.mu.Unlock()
	}
	if p.starter != nil {
		p.mu.Lock()
		if !p.exited {
			p.adoptStarter()
		}
		p.mu.Unlock()
	}
	n.procs.Store(p.pid.Id, p)
	p.startMailbox()
	return p.pid, p, initCh, nil
}

// abort ends a process whose start failed before Init: its mailbox is
// resumed without Init, and drains whatever reached it.
func (p *Process) abort(err error) (*PID, *Process, <-chan error, error) {
	p.finish(err) // releases the name if it was claimed
	p.resumeMailbox()
	return nil, nil, nil, err
}

// unlinkParent undoes the parent link of a process whose start failed, so
// that its exit (finish, which also frees its name) signals no parent.
func (n *Node) unlinkParent(p *Process, parent *Process) {
	if parent == nil {
		return
	}
	parent.mu.Lock()
	parent.links.del(keyOf(p.pid))
	parent.mu.Unlock()
	p.mu.Lock()
	p.links.del(keyOf(parent.pid))
	p.mu.Unlock()
}

// receive handles one user message of the mailbox, on its run's
// goroutine.
func (p *Process) receive(m any) {
	if p.dead.Load() {
		p.drain(m)
		return
	}
	p.dispatch(m)
	if p.stopReq && !p.dead.Load() {
		p.exit(p.stopReason)
	}
}

func (p *Process) init() {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = &PanicError{Value: r, Stack: debug.Stack()}
			}
		}()
		if st := p.starter; st != nil {
			s, berr := st.build()
			if berr != nil {
				err = berr
				return
			}
			if s == nil {
				err = fmt.Errorf("%w: the factory returned no server", ErrInvalidSpawn)
				return
			}
			p.server = s
		}
		err = p.server.Init(p)
	}()
	if err == nil && p.stopReq {
		err = p.stopReason
		if err == nil {
			err = ErrShutdown
		}
	}
	if err != nil {
		p.node.unlinkParent(p, p.node.local(p.parent))
		p.dropStarter()
		p.finish(err)
		err = fmt.Errorf("%w: %w", ErrInit, err)
		p.initCh <- err
		p.initCh = nil
		p.answerStarter(err)
		return
	}
	p.initCh <- nil
	p.initCh = nil
	p.answerStarter(nil)
}

func (p *Process) dispatch(m any) {
	defer func() {
		if r := recover(); r != nil {
			p.node.stats.crashes.Add(1)
			reason := &PanicError{Value: r, Stack: debug.Stack()}
			p.node.log.Error("process crashed", "pid", FormatPID(p.pid), "reason", reason, "stack", string(reason.Stack))
			p.exit(reason)
		}
	}()
	switch m := m.(type) {
	case *callMsg:
		if _, ok := m.msg.(*wire.InspectProcess); ok {
			p.node.reply(m.from, p.inspect(), nil)
			m.free()
			return
		}
		p.cur, p.deferred = m, false
		reply, err := p.server.HandleCall(p, m.msg)
		if !p.deferred {
			p.node.reply(m.from, reply, err)
		}
		p.cur = nil
		m.free()
	case *castMsg:
		p.server.HandleCast(p, m.msg)
	case *exitSig:
		p.handleExit(m)
	case *downSig:
		p.handleDown(m)
	case *rawInfo:
		p.server.HandleInfo(p, m.msg)
	default:
		p.server.HandleInfo(p, m)
	}
}

// rawInfo carries an info message that protoactor's mailbox would act on
// itself (a MessageBatch, which it unpacks, or an envelope holding one), so
// that it reaches HandleInfo as sent.
type rawInfo struct{ msg any }

// guard wraps what protoactor's mailbox would unpack; see rawInfo.
func guard(msg any) any {
	switch msg.(type) {
	case *pa.MessageEnvelope, pa.MessageBatch:
		return &rawInfo{msg}
	}
	return msg
}

// drain answers what reaches a process after its exit.
func (p *Process) drain(m any) {
	if c, ok := m.(*callMsg); ok {
		p.node.reply(c.from, nil, ErrNoProcess)
		c.free()
	}
}

// exit ends the process on its own goroutine: Terminate, then finish.
func (p *Process) exit(reason error) {
	if p.dead.Load() {
		return
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				p.node.log.Error("terminate panicked", "pid", FormatPID(p.pid), "panic", r)
			}
		}()
		p.server.Terminate(p, reason)
	}()
	// Links and monitors are told first: whatever the caller does after
	// this reply is ordered after the exit signal its supervisor got.
	p.finish(reason)
	if p.cur != nil && !p.deferred {
		p.node.reply(p.cur.from, nil, &ExitError{PID: p.pid, Reason: reason})
		p.cur = nil
	}
}

// kill ends the process from any goroutine, without Terminate.
func (p *Process) kill(reason error) { p.finish(reason) }

// finish marks the process exited, tells its links and monitors, releases
// its name and closes Done; what is still in its mailbox is drained by its
// run. It may run on any goroutine; only the first call has an effect.
func (p *Process) finish(reason error) bool {
	p.mu.Lock()
	if p.exited {
		p.mu.Unlock()
		return false
	}
	p.exited = true
	p.dead.Store(true)
	p.reason = reason
	links, mons, watch := p.links, p.mons, p.watch
	p.links, p.mons, p.watch = few[pidKey, *PID]{}, few[monKey, *PID]{}, few[Ref, *PID]{}
	if links.len() > 0 || mons.len() > 0 {
		p.atExit = &exitPeers{links: links, mons: mons} // read, never written, from now on
	}
	name := p.name
	p.mu.Unlock()

	n := p.node
	n.names.release(name, p)
	linkReason := reason
	if errors.Is(reason, ErrKill) { // as in Erlang, links hear "killed", not "kill"
		linkReason = ErrKilled
	}
	for _, to := range links.all() {
		n.exitSignal(p.pid, to, linkReason, true)
	}
	for k, to := range mons.all() {
		n.down(p.pid, to, k.ref, reason)
	}
	for ref, target := range watch.all() {
		n.demonitor(p.pid, target, ref)
	}
	// Findable until its links and monitors are told (addLink), gone before
	// Done says it ended.
	n.procs.Delete(p.pid.Id)
	p.mu.Lock()
	p.closed = true
	done := p.done
	p.mu.Unlock()
	if done != nil {
		close(done)
	}
	return true
}

// Self returns the process's PID.
func (p *Process) Self() *PID { return p.pid }

// Node returns the node the process runs on.
func (p *Process) Node() *Node { return p.node }

// Parent returns the PID of the process that spawned this one with
// SpawnLink, or nil.
func (p *Process) Parent() *PID { return p.parent }

// Done returns a channel that is closed when p has exited, however it
// exited (a kill included, which runs no Terminate): goroutines that p
// starts and owns select on it to end with p.
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		if p.closed {
			return p.node.closed
		}
		p.done = make(chan struct{}) // on demand: most processes are never waited for
	}
	return p.done
}

// ExitReason returns p's exit reason once Done is closed (nil for a normal
// exit), and nil before.
func (p *Process) ExitReason() error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.reason
}

// Stop ends the process with reason once the current callback returns; nil
// is a normal exit. Terminate runs with the reason.
func (p *Process) Stop(reason error) {
	p.stopReq, p.stopReason = true, reason
}

// TrapExit sets whether exit signals arrive as Exit messages in HandleInfo
// (true) or end the process when their reason is not normal (false).
func (p *Process) TrapExit(on bool) { p.trapExit = on }

// Wait blocks until the local process pid exits and returns its exit reason
// (nil for a normal exit). It returns ErrNoProcess if pid is not a live local
// process, and ErrTimeout if ctx ends first.
func (n *Node) Wait(ctx context.Context, pid *PID) (reason error, err error) {
	p := n.local(pid)
	if p == nil {
		return nil, ErrNoProcess
	}
	select {
	case <-p.Done():
		return p.ExitReason(), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
}

// Alive reports whether pid is a live process of this node.
func (n *Node) Alive(pid *PID) bool { return n.local(pid) != nil }
