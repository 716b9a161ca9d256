package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/directory"
	"github.com/switchboard-go/switchboard/internal/exchangepb"
	"github.com/switchboard-go/switchboard/internal/inspectpb"
	"github.com/switchboard-go/switchboard/internal/wire"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Start starts an exchange on n, registered under RegisteredName(spec.Name),
// not linked to anything; in an application use ChildSpec instead, so that
// a supervisor restarts it.
func Start(ctx context.Context, n *actor.Node, spec Spec) (*actor.PID, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return n.Spawn(ctx, newServer(spec), actor.WithName(RegisteredName(spec.Name)))
}

// ChildSpec is the supervisor child spec of an exchange.
func ChildSpec(spec Spec) supervisor.ChildSpec {
	return supervisor.ChildSpec{
		ID: "exchange:" + spec.Name,
		Start: func(ctx context.Context, sup *actor.Process, _ any) (*actor.PID, error) {
			if err := spec.Validate(); err != nil {
				return nil, err
			}
			return sup.SpawnLink(ctx, newServer(spec), actor.WithName(RegisteredName(spec.Name)))
		},
	}
}

// server is the exchange process: it keeps the controllers, appoints the
// leader, and routes each request to controllers, which answer the client
// directly.
type server struct {
	actor.BaseServer
	spec    Spec
	members members
	router  *router
	chain   func(*Request) error
	mons    map[string]actor.Ref // controller pid key -> monitor
	p       *actor.Process
	stats   Stats
	routed  atomic.Uint64 // Stats.Routed, also counted by routeDirect
	keys    *keyTable     // keyed requests (keyed.go)
	now     func() time.Time
	arrival *arrivalClock // deadlines of requests routed on arrival (direct.go)
}

// Stats are an exchange's counters, from Inspect.
type Stats struct {
	Routed, Rejected, NoController uint64
	// BadDecisions counts the requests among Rejected that a Func
	// strategy's Route decided wrongly (ErrBadDecision).
	BadDecisions uint64
	// Keys counts the keyed requests (Request.IdempotencyKey).
	Keys KeyStats
}

// Info describes an exchange, from Inspect.
type Info struct {
	Name     string
	Strategy Strategy
	Leader   *actor.PID
	Members  []Member
	Stats    Stats
}

func newServer(spec Spec) *server {
	spec.defaults()
	s := &server{spec: spec, mons: map[string]actor.Ref{}, now: time.Now, arrival: newArrivalClock()}
	s.keys = newKeyTable(spec.Idempotency, s.now())
	s.router = newRouter(&s.spec, &s.members)
	s.chain = s.dispatch
	for i := len(spec.Middleware) - 1; i >= 0; i-- {
		mw, next := spec.Middleware[i], s.chain
		s.chain = func(r *Request) error { return mw(r, next) }
	}
	return s
}

// Init publishes the exchange in the cluster's directory, if the node
// joined one. A directory that cannot be reached does not stop the
// exchange: the cluster publishes it again when it can.
func (s *server) Init(p *actor.Process) error {
	s.p = p
	directory.Publish(p, RegisteredName(s.spec.Name), s.spec.Name)
	if direct(&s.spec) {
		s.router.refresh()
		p.HandleDirect(s.routeDirect)
	}
	return nil
}

// Terminate withdraws the exchange from the directory and answers the
// keyed requests in flight.
func (s *server) Terminate(p *actor.Process, _ error) {
	directory.Withdraw(p, RegisteredName(s.spec.Name))
	s.stopKeyed()
}

// HandleCall routes requests; the reply comes from the controllers, so the
// exchange defers it and passes its ReplyTo on. Errors are its own reply.
func (s *server) HandleCall(p *actor.Process, msg any) (any, error) {
	if _, ok := msg.(*inspectpb.ExchangeInspect); ok {
		return s.info().proto(), nil
	}
	req, ok, err := AsRequest(msg, s.spec.MaxPayload)
	if !ok {
		return nil, actor.ErrUnhandled
	}
	if err != nil {
		s.stats.Rejected++
		return nil, err
	}
	if req.replyTo.IsZero() {
		req.replyTo = p.DeferReply() // a plain Call of the exchange: answer that caller
	}
	if req.Expired(time.Now()) {
		p.DeferReply()
		return nil, nil // nobody waits for it any more
	}
	// Middleware and routing run before the reply is deferred: if user code
	// among them panics, the runtime answers the client with the crash.
	if err := s.chain(req); err != nil {
		if errors.Is(err, ErrNoController) {
			s.stats.NoController++
		} else {
			s.stats.Rejected++
		}
		if errors.Is(err, ErrBadDecision) {
			s.stats.BadDecisions++
		}
		if !errors.Is(err, ErrNoController) && !errors.Is(err, ErrRejected) && !errors.Is(err, ErrRedirectLoop) &&
			!errors.Is(err, ErrExchangeNotFound) && !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrBadDecision) &&
			!errors.Is(err, ErrKeyUnsupported) && !errors.Is(err, ErrKeyReused) && !errors.Is(err, ErrKeysFull) {
			err = fmt.Errorf("%w: %w", ErrRejected, err)
		}
		p.DeferReply()
		if req.wantAll { // in the count's place, so that it cannot pass for a controller's reply
			p.Node().Reply(req.replyTo, &wire.Routed{Error: err.Error()}, nil)
		} else {
			p.Node().Reply(req.replyTo, nil, err)
		}
		return nil, nil
	}
	p.DeferReply() // the controllers answer
	return nil, nil
}

// dispatch is the end of the middleware chain: route and forward (keyed
// requests: see keyed.go).
func (s *server) dispatch(req *Request) error {
	if req.IdempotencyKey != "" {
		return s.dispatchKeyed(req)
	}
	targets, redirect, err := s.router.route(req)
	if err != nil {
		return err
	}
	if redirect != "" {
		return s.redirect(req, redirect)
	}
	n := s.p.Node()
	if req.wantAll {
		n.Reply(req.replyTo, routed(len(targets)), nil)
	}
	s.routed.Add(1)
	for _, t := range targets {
		r := req
		if len(targets) > 1 || r.ConnTag != t.ConnTag {
			c := *req
			c.ConnTag = t.ConnTag
			r = &c
		}
		if err := r.ForwardTo(n, t.PID); err != nil {
			n.Reply(req.replyTo, nil, err)
		}
	}
	return nil
}

// redirect passes req on to the exchange named to, on this node.
func (s *server) redirect(req *Request, to string) error {
	n := s.p.Node()
	req.hops++
	if int(req.hops) > s.spec.MaxHops {
		return fmt.Errorf("%w: %d hops", ErrRedirectLoop, req.hops)
	}
	if n.Whereis(RegisteredName(to)) == nil {
		return fmt.Errorf("%w: redirect to %q", ErrExchangeNotFound, to)
	}
	req.Exchange = to
	return req.ForwardTo(n, Named(to).PID(n))
}

// HandleInfo keeps the member table (joins, leaves, and deaths) and takes
// the answers of keyed runs.
func (s *server) HandleInfo(p *actor.Process, msg any) {
	switch m := msg.(type) {
	case *keyedReply:
		s.settle(m.key, m.run, m.val, m.err)
	case *exchangepb.Join:
		s.join(p, Member{PID: m.GetController(), ServiceTag: m.GetServiceTag(), ConnTag: m.GetConnectionTag()})
	case *exchangepb.Leave:
		s.gone(p, s.members.leave(m.GetController(), m.GetConnectionTag(), false))
	case actor.Down:
		if ref, ok := s.mons[pidKey(m.PID)]; ok && ref == m.Ref {
			delete(s.mons, pidKey(m.PID))
			s.gone(p, s.members.leave(m.PID, "", true))
			s.controllerDied(m.PID, m.Reason)
		}
	}
}

func pidKey(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

func (s *server) join(p *actor.Process, c Member) {
	if c.PID == nil {
		return
	}
	added := s.members.join(c)
	if _, ok := s.mons[pidKey(c.PID)]; !ok {
		s.mons[pidKey(c.PID)] = p.Monitor(c.PID)
	}
	changed := s.appoint()
	s.router.refresh()
	// The joiner always learns the leader, if any, and the exchange's PID.
	s.send(p, c.PID, s.leaderEvent())
	if !added {
		return
	}
	up := &exchangepb.MemberUp{Exchange: s.spec.Name, Member: c.PID, ServiceTag: c.ServiceTag, ConnectionTag: c.ConnTag}
	for _, other := range s.members.pids() {
		if samePID(other, c.PID) {
			continue
		}
		s.send(p, other, up)
		if changed {
			s.send(p, other, s.leaderEvent())
		}
	}
}

func (s *server) gone(p *actor.Process, gone []Member) {
	if len(gone) == 0 {
		return
	}
	s.router.forget(gone)
	for _, g := range gone {
		if !s.members.has(g.PID) {
			if ref, ok := s.mons[pidKey(g.PID)]; ok {
				p.Demonitor(ref)
				delete(s.mons, pidKey(g.PID))
			}
		}
	}
	changed := s.appoint()
	s.router.refresh()
	for _, other := range s.members.pids() {
		for _, g := range gone {
			s.send(p, other, &exchangepb.MemberDown{Exchange: s.spec.Name, Member: g.PID, ServiceTag: g.ServiceTag, ConnectionTag: g.ConnTag})
		}
		if changed {
			s.send(p, other, s.leaderEvent())
		}
	}
}

// appoint recomputes the leader under the strategies that have one and
// reports whether it changed.
func (s *server) appoint() bool {
	return s.spec.Strategy.AppointsLeader() && s.members.appoint()
}

func (s *server) leaderEvent() *exchangepb.Leader {
	return &exchangepb.Leader{Exchange: s.spec.Name, Leader: s.members.leader, Members: s.members.pids(), ExchangePid: s.p.Self()}
}

// send sends an event to a member. One that cannot go because this node
// is stopping or the member's is gone is no news (the member is leaving
// too): debug level. Anything else (an event that does not encode, or is
// too large) is a bug worth a warning.
func (s *server) send(p *actor.Process, to *actor.PID, msg any) {
	err := p.Send(to, msg)
	switch {
	case err == nil:
	case errors.Is(err, actor.ErrNodeStopped) || errors.Is(err, actor.ErrNodeDown) || errors.Is(err, actor.ErrNoProcess):
		p.Node().Logger().Debug("exchange event not sent", "exchange", s.spec.Name, "to", actor.FormatPID(to), "error", err)
	default:
		p.Node().Logger().Warn("exchange event not sent", "exchange", s.spec.Name, "to", actor.FormatPID(to), "error", err)
	}
}

func (s *server) info() Info {
	s.stats.Routed = s.routed.Load()
	s.stats.Keys = s.keys.snapshot()
	return Info{Name: s.spec.Name, Strategy: s.spec.Strategy, Leader: s.members.leader,
		Members: append([]Member(nil), s.members.list...), Stats: s.stats}
}
