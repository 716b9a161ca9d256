package exchange

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// Keyed requests. A request with an idempotency key does not bypass the
// exchange on its way back: the exchange sends it to the controller as a
// request of its own (actor.Node.ExpectReply into its mailbox), takes the
// answer, remembers it if it is an outcome, and answers the client and
// every duplicate with it. Its state is the keyTable (keys.go); this file
// carries the table's decisions out.

// keyedReply is a controller's answer to a keyed run, as the exchange's
// own request delivers it to its mailbox.
type keyedReply struct {
	key string
	run uint64
	val any
	err error
}

// dispatchKeyed is dispatch for a request with an idempotency key.
func (s *server) dispatchKeyed(req *Request) error {
	if req.wantAll {
		return fmt.Errorf("%w: a request for every reply (CallAll)", ErrKeyUnsupported)
	}
	n := s.p.Node()
	e, what := s.keys.arrive(req.IdempotencyKey, fingerprint(req), keyWaiter{rt: req.replyTo, deadline: req.Deadline}, s.now())
	switch what {
	case keyJoin:
		return nil
	case keyReplay:
		n.Reply(req.replyTo, e.val, e.err)
		return nil
	case keyConflict:
		return fmt.Errorf("%w: key %q", ErrKeyReused, req.IdempotencyKey)
	case keyFull:
		return fmt.Errorf("%w: key %q", ErrKeysFull, req.IdempotencyKey)
	}
	to, redirect, err := s.routeKeyed(req)
	if err != nil || redirect != "" {
		s.keys.abandon(e) // it did not run here
		if err != nil {
			return err
		}
		return s.redirect(req, redirect)
	}
	s.run(e, req, to)
	return nil
}

// routeKeyed picks the one controller of a keyed request: under the
// strategies that would spread requests (Broadcast, RoundRobin,
// LeaderRoundRobin) the hash of its key picks among the group, so that all
// requests with one key go to one controller while the group is unchanged;
// the others decide as for any request (the leader, the sticky binding,
// the user's Route), and of several targets the key's hash picks one.
func (s *server) routeKeyed(req *Request) (Member, string, error) {
	switch s.spec.Strategy {
	case Broadcast, RoundRobin, LeaderRoundRobin:
		group := s.members.group(req.ServiceTag, s.router.buf)
		s.router.buf = group
		if len(group) == 0 {
			return Member{}, "", noController(req)
		}
		return group[keyHash(req.IdempotencyKey)%uint64(len(group))], "", nil
	}
	targets, redirect, err := s.router.route(req)
	if err != nil || redirect != "" {
		return Member{}, redirect, err
	}
	return targets[keyHash(req.IdempotencyKey)%uint64(len(targets))], "", nil
}

// run sends e's request to controller to, answered to the exchange, with
// the latest deadline of the requests waiting for it. The exchange waits
// for the answer one window past that deadline: a controller that
// overruns it still gives the key its outcome.
func (s *server) run(e *keyEntry, req *Request, to Member) {
	id := s.keys.start(e, req, to)
	n, key := s.p.Node(), e.key
	c := *req
	c.ConnTag = to.ConnTag
	c.Deadline = e.latest()
	c.attempt = s.keys.attempt(id)
	if to.PID.Address != n.Address() {
		c.startBy = s.startBy(to.PID.Address)
	}
	wait := c.Deadline
	if wait.IsZero() {
		wait = s.now()
	}
	rt, err := n.ExpectReply(deadlineOnly{wait.Add(s.spec.Idempotency.Window)}, to.PID.Address, s.p.Self(),
		func(v any, err error) any { return &keyedReply{key: key, run: id, val: v, err: err} })
	if err != nil { // the exchange is stopping
		s.settle(key, id, nil, err)
		return
	}
	c.replyTo, e.runRT = rt, rt
	s.routed.Add(1)
	if err := c.ForwardTo(n, to.PID); err != nil {
		n.Cancel(rt)
		s.settle(key, id, nil, err)
	}
}

// settle takes the answer of run to key: it answers the waiting requests
// and, after a timeout of a controller that is still a member, or its
// refusal of a run whose lease had passed (ErrStale: it did not run it),
// runs the request again for the duplicates whose deadlines have not
// passed.
func (s *server) settle(key string, run uint64, val any, err error) {
	mayRerun := false
	if e := s.keys.byKey[key]; e != nil && e.run == run && (errors.Is(err, actor.ErrTimeout) || errors.Is(err, ErrStale)) {
		mayRerun = s.members.hasConn(e.to)
		if errors.Is(err, ErrStale) {
			s.keys.stats.Stale++
		}
	}
	e, answer, rerun := s.keys.finish(key, run, val, err, isOutcome(err), mayRerun, s.now())
	if e == nil {
		return // an earlier run's, or the key was forgotten since
	}
	n := s.p.Node()
	for _, w := range answer {
		n.Reply(w.rt, val, err)
	}
	if rerun {
		s.run(e, e.req, e.to)
	}
}

// controllerDied settles the runs in flight on a controller that died:
// it will not answer them (a controller that leaves the exchange alive
// still answers what it has). No outcome: the waiting requests get an
// error that their clients may repeat the request on, and the repeat
// goes to another controller.
func (s *server) controllerDied(pid *actor.PID, reason error) {
	for _, e := range s.keys.inFlight() {
		if samePID(e.to.PID, pid) {
			s.p.Node().Cancel(e.runRT)
			s.settle(e.key, e.run, nil, fmt.Errorf("%w: controller %s died with the request in flight: %v", actor.ErrNoProcess, actor.FormatPID(pid), reason))
		}
	}
}

// stopKeyed answers the requests waiting for runs in flight when the
// exchange stops: nothing will take their controllers' answers. The
// error names the exchange's process, so clients see ErrExchangeNotFound
// and may repeat the request.
func (s *server) stopKeyed() {
	n := s.p.Node()
	err := fmt.Errorf("%w: %s (stopped with the request in flight)", actor.ErrNoProcess, RegisteredName(s.spec.Name))
	for _, e := range s.keys.inFlight() {
		n.Cancel(e.runRT)
		for _, w := range e.waiters {
			n.Reply(w.rt, nil, err)
		}
	}
}

// isOutcome reports whether a controller's answer is the outcome of a
// request, to be remembered: a value, or an error the handler returned.
// Not outcomes: a timeout, the controller's node or process going away, a
// crash, an overload: answers that say nothing of whether the handler ran.
func isOutcome(err error) bool {
	if err == nil {
		return true
	}
	for _, not := range []error{ErrStale, actor.ErrTimeout, actor.ErrNodeDown, actor.ErrNoProcess, actor.ErrNodeStopped,
		actor.ErrOverloaded, actor.ErrKilled, actor.ErrKill, actor.ErrShutdown, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, not) {
			return false
		}
	}
	var exit *actor.ExitError
	if errors.As(err, &exit) {
		return false
	}
	var remote *actor.RemoteError // a crash on another node: only its text came
	return !errors.As(err, &remote) || !strings.Contains(remote.Text, " exited while handling the call: ")
}

// fingerprint identifies a keyed request's content: its service tag and
// payload. A duplicate has the same.
func fingerprint(req *Request) uint64 {
	h := fnv.New64a()
	h.Write([]byte(req.ServiceTag))
	h.Write([]byte{0})
	writePayload(h, req.Msg)
	return h.Sum64()
}

func keyHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

// deadlineOnly is a context that has a deadline and is never done: all
// ExpectReply asks of it.
type deadlineOnly struct{ at time.Time }

func (d deadlineOnly) Deadline() (time.Time, bool) { return d.at, true }
func (deadlineOnly) Done() <-chan struct{}         { return nil }
func (deadlineOnly) Err() error                    { return nil }
func (deadlineOnly) Value(any) any                 { return nil }
