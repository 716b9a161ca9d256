package exchange

import (
	"context"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/exchangepb"
)

// Membership keeps a controller joined to an exchange. Any gen_server can
// be a controller: call Join from Init, pass every HandleInfo message
// through Handle, and answer requests in HandleCall (see AsRequest). The
// membership monitors the exchange; when it dies or does not exist yet, the
// controller sees an *ExchangeDown and the membership joins again, with
// backoff, until the exchange is back.
type Membership struct {
	Exchange   Address
	ServiceTag string
	ConnTag    string
	// MaxBackoff bounds the wait between attempts to join; default 1 s.
	MaxBackoff time.Duration

	ref     actor.Ref
	target  *actor.PID
	backoff time.Duration
	leader  *Leader
}

type rejoin struct{ m *Membership }

const minBackoff = 10 * time.Millisecond

// Join registers the controller p with the exchange, found by
// Address.Resolve at each attempt (so a controller follows an exchange
// that moved to another node).
func (m *Membership) Join(p *actor.Process) {
	n := p.Node()
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	target, err := m.Exchange.Resolve(ctx, n)
	cancel()
	if err != nil {
		// Not found: monitor the name where it is not, for a Down at once
		// and another attempt after the backoff.
		target = actor.NamedPID(n.Address(), RegisteredName(m.Exchange.Name))
	}
	m.target = target
	m.ref = p.Monitor(target) // before Join: a missing exchange is a Down at once
	_ = p.Send(target, &exchangepb.Join{Controller: p.Self(), ServiceTag: m.ServiceTag, ConnectionTag: m.ConnTag})
}

// resolveTimeout bounds a directory lookup made from a process.
const resolveTimeout = 2 * time.Second

// Leave unregisters the controller (this connection) from the exchange.
func (m *Membership) Leave(p *actor.Process) {
	p.Demonitor(m.ref)
	if m.target != nil {
		_ = p.Send(m.target, &exchangepb.Leave{Controller: p.Self(), ConnectionTag: m.ConnTag})
	}
}

// Leader is the last Leader event of this membership, or nil.
func (m *Membership) Leader() *Leader { return m.leader }

// Handle takes a HandleInfo message: it returns the message the controller
// should see (the membership's own events: *Leader, *MemberUp,
// *MemberDown, *ExchangeDown; or any other message unchanged), or nil for
// messages it consumed.
func (m *Membership) Handle(p *actor.Process, msg any) any {
	switch e := msg.(type) {
	case actor.Down:
		if e.Ref != m.ref {
			return msg
		}
		m.leader = nil
		if m.backoff == 0 {
			m.backoff = minBackoff
		} else if m.backoff *= 2; m.backoff > m.maxBackoff() {
			m.backoff = m.maxBackoff()
		}
		p.SendAfter(m.backoff, rejoin{m})
		reason := ""
		if e.Reason != nil {
			reason = e.Reason.Error()
		}
		return &ExchangeDown{Exchange: m.Exchange.Name, Reason: reason}
	case rejoin:
		if e.m != m {
			return msg
		}
		m.Join(p)
		return nil
	case *exchangepb.Leader:
		return m.Handle(p, event(e))
	case *Leader: // converted already, by another Membership of the same process
		if e.Exchange == m.Exchange.Name {
			m.backoff = 0
			m.leader = e
		}
		return e
	case *exchangepb.MemberUp, *exchangepb.MemberDown:
		return event(e)
	}
	return msg
}

func (m *Membership) maxBackoff() time.Duration {
	if m.MaxBackoff > 0 {
		return m.MaxBackoff
	}
	return time.Second
}
