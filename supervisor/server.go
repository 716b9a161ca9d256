package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// child is a supervisor's record of one child.
type child struct {
	spec ChildSpec
	pid  *actor.PID // nil when not running
	args any        // StartChildWith's argument, for SimpleOneForOne restarts
	seq  uint64     // identifies the record, also for SimpleOneForOne children

	restarts uint64 // times this child's exit made the supervisor restart
}

// server is the supervisor process. Everything here runs on its goroutine.
type server struct {
	actor.BaseServer
	spec     Spec
	startCtx context.Context // bounds the initial start; restarts are unbounded, as in Erlang
	children []*child
	window   restartWindow
	now      func() time.Time
	seq      uint64
	restarts uint64 // restarts applied, for Inspect
}

// retry asks the supervisor to try again a restart that failed.
type retry struct{ seq uint64 }

func newServer(ctx context.Context, spec Spec) *server {
	max, period := spec.limits()
	return &server{
		spec:     spec,
		startCtx: ctx,
		window:   restartWindow{max: max, period: period},
		now:      time.Now,
	}
}

func (s *server) Init(p *actor.Process) error {
	p.TrapExit(true)
	if s.spec.Strategy == SimpleOneForOne {
		return nil
	}
	for _, cs := range s.spec.Children {
		c := s.newChild(cs, nil)
		s.children = append(s.children, c)
		if err := s.start(s.startCtx, p, c); err != nil {
			s.terminateAll(p)
			return err
		}
	}
	s.startCtx = nil
	return nil
}

// start runs the child's start function and links to the result.
func (s *server) start(ctx context.Context, p *actor.Process, c *child) error {
	pid, err := c.spec.Start(ctx, p, c.args)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrStartChild, c.spec.ID, err)
	}
	c.pid = pid
	if pid != nil {
		p.Link(pid)
		p.Node().Logger().Debug("child started", "supervisor", actor.FormatPID(p.Self()), "child", c.spec.ID, "pid", actor.FormatPID(pid))
	}
	return nil
}

func (s *server) HandleInfo(p *actor.Process, msg any) {
	switch m := msg.(type) {
	case actor.Exit:
		i := s.indexPID(m.From)
		if i < 0 {
			return // not (or no longer) our child
		}
		s.childExited(p, i, m.Reason)
	case retry:
		i := slices.IndexFunc(s.children, func(c *child) bool { return c.seq == m.seq })
		if i >= 0 && s.children[i].pid == nil {
			s.restart(p, i)
		}
	}
}

func (s *server) childExited(p *actor.Process, i int, reason error) {
	c := s.children[i]
	c.pid = nil
	log := p.Node().Logger()
	if !actor.IsNormalExit(reason) {
		log.Warn("child terminated", "supervisor", actor.FormatPID(p.Self()), "child", c.spec.ID, "reason", reason)
	}
	restart := c.spec.Restart == Permanent || (c.spec.Restart == Transient && !actor.IsNormalExit(reason))
	if !restart {
		if c.spec.Restart == Temporary || s.spec.Strategy == SimpleOneForOne {
			s.children = slices.Delete(s.children, i, i+1)
		}
		return
	}
	s.restart(p, i)
}

// restart applies the strategy to child i, counting against the intensity.
func (s *server) restart(p *actor.Process, i int) {
	if !s.window.add(s.now()) {
		p.Node().Logger().Error("supervisor giving up", "supervisor", actor.FormatPID(p.Self()), "reason", ErrMaxRestartIntensity)
		p.Stop(fmt.Errorf("%w: %w", actor.ErrShutdown, ErrMaxRestartIntensity))
		return
	}
	c := s.children[i]
	c.restarts++
	s.restarts++
	p.Node().Logger().Info("restarting", "supervisor", actor.FormatPID(p.Self()), "child", c.spec.ID, "strategy", s.spec.Strategy.String())
	group := []*child{c}
	switch s.spec.Strategy {
	case OneForAll:
		s.terminateFrom(p, 0)
		group = slices.Clone(s.children)
	case RestForOne:
		s.terminateFrom(p, i+1)
		group = slices.Clone(s.children[i:])
	}
	for _, g := range group {
		if g.pid != nil {
			continue
		}
		if err := s.start(context.Background(), p, g); err != nil {
			p.Node().Logger().Warn("restart failed", "supervisor", actor.FormatPID(p.Self()), "child", g.spec.ID, "error", err)
			_ = p.Send(p.Self(), retry{seq: g.seq})
			return
		}
	}
}

// terminateFrom stops children[from:] in reverse order; temporary ones are
// dropped, as Erlang does when a group restart takes them down.
func (s *server) terminateFrom(p *actor.Process, from int) {
	for j := len(s.children) - 1; j >= from; j-- {
		c := s.children[j]
		if c.pid != nil {
			s.shutdown(p, c)
		}
		if c.spec.Restart == Temporary {
			s.children = slices.Delete(s.children, j, j+1)
		}
	}
}

func (s *server) terminateAll(p *actor.Process) {
	for j := len(s.children) - 1; j >= 0; j-- {
		if s.children[j].pid != nil {
			s.shutdown(p, s.children[j])
		}
	}
}

// shutdown stops one child as Erlang does: unlink, exit signal shutdown,
// wait up to the child's shutdown time, then kill.
func (s *server) shutdown(p *actor.Process, c *child) {
	pid := c.pid
	c.pid = nil
	p.Unlink(pid)
	n := p.Node()
	timeout := c.spec.shutdown()
	if timeout == BrutalKill {
		p.Exit(pid, actor.ErrKill)
		return
	}
	p.Exit(pid, actor.ErrShutdown)
	ctx := context.Background()
	if timeout != Infinity {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if _, err := n.Wait(ctx, pid); errors.Is(err, actor.ErrTimeout) {
		n.Logger().Warn("child ignored shutdown; killing it", "supervisor", actor.FormatPID(p.Self()), "child", c.spec.ID, "after", timeout)
		p.Exit(pid, actor.ErrKill)
	}
}

// Terminate stops every child in reverse start order.
func (s *server) Terminate(p *actor.Process, _ error) { s.terminateAll(p) }

func (s *server) indexPID(pid *actor.PID) int {
	return slices.IndexFunc(s.children, func(c *child) bool { return c.pid != nil && c.pid.Equal(pid) })
}

func (s *server) indexID(id string) int {
	return slices.IndexFunc(s.children, func(c *child) bool { return c.spec.ID == id })
}

func (s *server) newChild(spec ChildSpec, args any) *child {
	s.seq++
	return &child{spec: spec, args: args, seq: s.seq}
}
