package distapp

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/internal/distapppb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// tickEvery is how often a standby looks at the directory again (entries
// come without events; membership events wake it at once).
const tickEvery = 100 * time.Millisecond

// phase is where a manager is.
type phase int

const (
	standby phase = iota // not running the application here
	running              // running it, holding its lock
	handing              // running it, lock released for a takeover by handTo
)

var phaseNames = [...]string{"standby", "running", "handing"}

func (p phase) String() string { return phaseNames[p] }

type lockResult struct {
	lk  cluster.Lock
	err error
}

// Messages of a manager to itself.
type (
	goReq          struct{} // sync done: take part
	stopReq        struct{} // Coordinator.Stop
	tickMsg        struct{}
	wakeMsg        struct{ at time.Time }
	appStoppedMsg  struct{} // the tree stopped without the manager asking
	attemptDone    struct{ a *attemptRun }
	lostMsg        struct{ gen uint64 }
	handingTimeout struct{ gen uint64 }
	retryTakeover  struct{} // a takeover at startup failed: try it again
)

// manager is the process that runs one distributed application on one
// node: it stands by, takes the lock and starts the application when
// decide says so, stops it when the lock is lost, and takes part in
// takeovers (takeover.go).
type manager struct {
	actor.BaseServer
	c    *Coordinator
	spec Spec
	name string
	self string
	hook *hook
	p    *actor.Process
	log  *slog.Logger

	going   bool // past sync: takes part
	phase   phase
	st      state
	gen     uint64 // of the lock held
	att     *attemptRun
	lock    cluster.Lock
	backoff time.Duration // before trying again after a failed start
	wakeAt  time.Time
	unsub   func()
	// tries counts the failed takeovers at startup (evaluate).
	tries int

	handTo  string    // handing: the node taking over
	handRef actor.Ref // handing: monitor of its manager
	handGen uint64
}

func newManager(c *Coordinator, spec Spec, h *hook) *manager {
	return &manager{c: c, spec: spec, name: spec.Application.Name, self: c.n.Name(), hook: h,
		log: c.log.With("application", spec.Application.Name), backoff: time.Second}
}

func (m *manager) Init(p *actor.Process) error {
	m.p = p
	m.hook.set(p.Self(), false)
	m.publish(presentName(m.name))
	m.unsub = m.c.cl.MonitorNodes(p.Self())
	p.SendAfter(tickEvery, tickMsg{})
	m.report()
	return nil
}

func (m *manager) HandleCall(p *actor.Process, msg any) (any, error) {
	defer m.report()
	switch msg := msg.(type) {
	case goReq:
		m.going = true
		m.st.startup = true
		m.evaluate()
		return nil, nil
	case stopReq:
		m.cleanup()
		return nil, nil
	case *distapppb.Move:
		return nil, m.move()
	case *distapppb.Release:
		return m.release(msg)
	case *distapppb.Handoff:
		return nil, m.handoff(msg)
	case *distapppb.Abort:
		m.abort(msg.GetTo(), "the new node gave up")
		return nil, nil
	}
	return nil, actor.ErrUnhandled
}

func (m *manager) HandleInfo(p *actor.Process, msg any) {
	defer m.report()
	switch msg := msg.(type) {
	case tickMsg:
		m.evaluate()
		p.SendAfter(tickEvery, tickMsg{})
	case retryTakeover:
		if m.going && m.phase == standby {
			m.st.startup = true // decide takes it over again if it still should
			m.evaluate()
		}
	case wakeMsg:
		if msg.at.Equal(m.wakeAt) {
			m.wakeAt = time.Time{}
			m.evaluate()
		}
	case cluster.Event:
		m.evaluate()
	case attemptDone:
		m.locked(msg.a)
	case lostMsg:
		if msg.gen == m.gen && m.phase == running {
			m.log.Warn("distributed application: lock lost; stopping it here")
			m.stopHere(m.spec.LostStopTimeout)
			m.unlock()
			m.toStandby(m.self)
			m.evaluate()
		}
	case appStoppedMsg:
		if m.phase != standby {
			m.log.Warn("distributed application: its tree exited; releasing it")
			m.withdraw(runName(m.name))
			m.unlock()
			m.toStandby(m.self)
			m.st.retryAt = time.Now().Add(m.backoff)
		}
	case actor.Down:
		if m.phase == handing && msg.Ref == m.handRef {
			m.abort(m.handTo, "the new node's manager went down")
		}
	case handingTimeout:
		if m.phase == handing && msg.gen == m.handGen {
			m.abort(m.handTo, "the takeover timed out")
		}
	}
}

func (m *manager) Terminate(p *actor.Process, _ error) {
	m.cleanup()
	m.hook.set(nil, false)
	m.c.setStatus(m.name, nil)
}

// report publishes the manager's state for Coordinator.Status.
func (m *manager) report() {
	holder := m.st.lastHolder
	if m.phase != standby {
		holder = m.self
	}
	m.c.setStatus(m.name, &Status{Phase: m.phase.String(), Holder: holder, Gone: m.st.goneAt})
}

// cleanup stops the application here if it runs, releases the lock and
// withdraws this node's names: a standby takes over. Idempotent.
func (m *manager) cleanup() {
	m.cancelAttempt()
	if m.phase != standby {
		m.stopHere(m.spec.TakeoverTimeout)
	}
	m.unlock()
	m.phase = standby
	m.going = false
	m.withdraw(presentName(m.name))
	if m.unsub != nil {
		m.unsub()
		m.unsub = nil
	}
}

// evaluate asks decide what to do and does it.
func (m *manager) evaluate() {
	if !m.going || m.phase != standby {
		return
	}
	var d decision
	m.st, d = decide(&m.spec, m.self, m.st, m.view())
	switch d.act {
	case attempt:
		m.startAttempt()
	case cancel:
		m.cancelAttempt()
	case takeover:
		if err := m.takeoverFrom(d.from); err != nil {
			m.takeoverFailed(d.from, err)
		} else {
			m.tries = 0
		}
	}
	if !d.wake.IsZero() && !d.wake.Equal(m.wakeAt) {
		m.wakeAt = d.wake
		m.p.SendAfter(time.Until(d.wake), wakeMsg{at: d.wake})
	}
}

// view reads the directory.
func (m *manager) view() view {
	var present []string
	for _, n := range nodesOf(m.c.cl.LookupAll(presentName(m.name))) {
		if priority(m.spec.Nodes, n) >= 0 {
			present = append(present, n)
		}
	}
	runs := m.c.cl.LookupAll(runName(m.name))
	slices.SortFunc(runs, func(a, b cluster.Entry) int { return cmp.Compare(b.Created, a.Created) })
	return view{now: time.Now(), present: present, holders: nodesOf(runs), load: m.c.load()}
}

// attemptRun is a lock attempt under way in a goroutine of its own. The
// goroutine leaves its result here and tells the manager; an attempt
// cancelled before its result was taken gives back the lock it got.
type attemptRun struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	done   bool // cancelled, or its result taken
	result *lockResult
}

// take returns the attempt's result, if any, and ends it.
func (a *attemptRun) take() *lockResult {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done = true
	r := a.result
	a.result = nil
	return r
}

func (m *manager) startAttempt() {
	ctx, stop := context.WithCancel(context.Background())
	a := &attemptRun{cancel: stop}
	m.att = a
	m.st.attempting = true
	n, self, locker, key := m.p.Node(), m.p.Self(), m.c.locker, lockKey(m.name)
	go func() {
		lk, err := locker.Lock(ctx, key)
		a.mu.Lock()
		if a.done {
			a.mu.Unlock()
			if lk != nil {
				uctx, ucancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer ucancel()
				_ = lk.Unlock(uctx)
			}
			return
		}
		a.result = &lockResult{lk: lk, err: err}
		a.mu.Unlock()
		_ = n.Send(self, attemptDone{a})
	}()
}

func (m *manager) cancelAttempt() {
	if a := m.att; a != nil {
		m.att = nil
		a.cancel()
		if r := a.take(); r != nil && r.lk != nil {
			m.unlockThis(r.lk)
		}
	}
	m.st.attempting = false
}

// locked handles the result of an attempt.
func (m *manager) locked(a *attemptRun) {
	if a != m.att {
		return // cancelled: the lock, if any, was given back
	}
	m.att, m.st.attempting = nil, false
	r := a.take()
	if r == nil {
		return
	}
	if m.phase != standby || !m.going {
		if r.lk != nil {
			m.unlockThis(r.lk)
		}
		return
	}
	if r.err != nil {
		m.log.Warn("distributed application: lock attempt failed", "err", r.err)
		m.st.retryAt = time.Now().Add(200 * time.Millisecond)
		return
	}
	// A node may run it without its lock: one handing it over to another
	// node in a takeover. Leave it to them.
	if v := m.view(); len(v.holders) > 0 {
		m.unlockThis(r.lk)
		m.evaluate()
		return
	}
	st := supervisor.StartType{Mode: supervisor.Normal}
	if m.st.lastHolder != "" {
		st = supervisor.StartType{Mode: supervisor.Failover, From: m.st.lastHolder}
	}
	_ = m.startHere(r.lk, st)
}

// startHere starts the application, lk held: it says so in the directory
// first, so the others stand by.
func (m *manager) startHere(lk cluster.Lock, st supervisor.StartType) error {
	m.hold(lk)
	m.phase = running
	m.st.startup = false
	m.report()
	m.publish(runName(m.name))
	ctx, cancel := context.WithTimeout(context.Background(), m.spec.TakeoverTimeout)
	defer cancel()
	err := m.c.apps.Start(ctx, m.name, m.spec.Restart, supervisor.WithStartType(st))
	if err != nil {
		m.log.Error("distributed application: start failed", "mode", st.Mode.String(), "from", st.From, "err", err, "retry", m.backoff)
		m.withdraw(runName(m.name))
		m.unlock()
		m.phase = standby
		m.st.retryAt = time.Now().Add(m.backoff)
		m.backoff = min(2*m.backoff, 30*time.Second)
		return err
	}
	m.backoff = time.Second
	m.log.Info("distributed application started here", "mode", st.Mode.String(), "from", st.From)
	return nil
}

// stopHere stops the application here, within d: past it, its top
// supervisor is killed. Then the manager stands by, and withdraws its run
// entry (within d too: when Consul cannot be reached, the entry goes with
// the node's session).
func (m *manager) stopHere(d time.Duration) {
	var sup *actor.PID
	for _, a := range m.c.apps.Running() {
		if a.Name == m.name {
			sup = a.Supervisor
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	m.hook.set(m.p.Self(), true)
	err := m.c.apps.Stop(ctx, m.name)
	m.hook.set(m.p.Self(), false)
	switch {
	case errors.Is(err, actor.ErrTimeout) && sup != nil:
		m.log.Error("distributed application: not stopped in time; killing its tree", "within", d)
		m.p.Exit(sup, actor.ErrKill)
	case err != nil && !errors.Is(err, supervisor.ErrNotRunning):
		m.log.Warn("distributed application: stop", "err", err)
	}
	m.phase = standby
	m.report()
	m.log.Info("distributed application stopped here")
	m.withdrawWithin(runName(m.name), min(d, 5*time.Second))
}

func (m *manager) toStandby(lastHolder string) {
	m.phase = standby
	m.st.lastHolder, m.st.goneAt = lastHolder, time.Time{}
}

// hold makes lk the lock held, watched for loss.
func (m *manager) hold(lk cluster.Lock) {
	m.gen++
	m.lock = lk
	n, self, gen := m.p.Node(), m.p.Self(), m.gen
	go func() {
		<-lk.Lost() // closed by Unlock too: then gen is stale
		_ = n.Send(self, lostMsg{gen: gen})
	}()
}

func (m *manager) unlock() {
	if m.lock != nil {
		m.gen++
		m.unlockThis(m.lock)
		m.lock = nil
	}
}

func (m *manager) unlockThis(lk cluster.Lock) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := lk.Unlock(ctx); err != nil {
		m.log.Warn("distributed application: unlock", "err", err)
	}
}

func (m *manager) publish(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.c.cl.Register(ctx, name); err != nil {
		m.log.Warn("distributed application: publish", "name", name, "err", err)
	}
}

func (m *manager) withdraw(name string) { m.withdrawWithin(name, 5*time.Second) }

func (m *manager) withdrawWithin(name string, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := m.c.cl.Unregister(ctx, name); err != nil && !errors.Is(err, cluster.ErrLeft) {
		m.log.Warn("distributed application: withdraw", "name", name, "err", err)
	}
}
