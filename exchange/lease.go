package exchange

import (
	"time"

	"fmt"

	"github.com/switchboard-go/switchboard/actor"
)

// Leases of keyed runs. A run that the exchange sends to a controller on
// another node carries a bound on the exchange's node clock (actor.Node.Clock)
// after which the controller must not start the handler: the send time
// plus Idempotency.Lease, or earlier, the first moment at which this node
// could declare the controller's node down for silence (actor.Node.DownBy).
// The controller compares it with its own clock through the handshake's
// bound of the offset between the two (actor.Node.PeerClock), which errs
// only towards calling the run older than it is. So once the exchange's
// node has declared the controller's node down for silence, that node
// cannot start the run any more, even if it was paused and resumes with
// the run in its mailbox or its socket: the key may run on the next
// controller. What no bound covers is a handler that had started before
// the pause: see Request.Attempt. docs/request-response.md has the
// argument.

// startBy is the bound of a run sent now to a controller on the node at
// addr.
func (s *server) startBy(addr string) (by time.Duration) {
	n := s.p.Node()
	by = min(n.Clock()+s.keys.bound.Lease, n.DownBy(addr))
	return max(by, 1) // 0 says none
}

// CheckStart tells a controller whether it may start the handler of req
// now: nil, or an error wrapping ErrStale when req is a keyed run from an
// exchange on another node whose start bound has passed, or cannot be
// checked (no connection from that node is established, to bound its
// clock). A controller answers the request with that error instead of
// running the handler: the exchange sends the run again if it still
// wants it. patterns.Controller calls it; a controller of its own calls
// it in HandleCall, right before the handler.
func CheckStart(n *actor.Node, req *Request) error {
	if req.startBy == 0 {
		return nil
	}
	from := req.replyTo.Address() // the exchange's node, whose clock the bound is on
	lo, ok := n.PeerClock(from)
	if !ok {
		return fmt.Errorf("%w: no connection from %s to compare clocks with", ErrStale, from)
	}
	// now > startBy + lo, written so that no bound a peer sends overflows.
	if since := n.Clock() - req.startBy; req.startBy < 0 || since > lo {
		return fmt.Errorf("%w: its start bound passed %v ago at least", ErrStale, since-lo)
	}
	return nil
}
