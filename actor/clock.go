package actor

import "time"

// Clock is the node's time: how long since it started, on the monotonic
// clock, which no setting of the wall clock moves. Its transport counts
// alike, and an exchange stamps keyed requests with it (see
// docs/request-response.md, "Idempotency keys").
func (n *Node) Clock() time.Duration { return time.Duration(n.clock()) }

// PeerClock bounds from below how far this node's Clock is ahead of the
// Clock of the node at addr (negative: behind), as the handshake of the
// connection that addr's frames come on measured it, without either
// clock being set: a stamp s of that node's Clock was read, on this
// node's, at s+lo or later. ok is false without such a connection (none
// established now, or no transport).
func (n *Node) PeerClock(addr string) (lo time.Duration, ok bool) {
	if n.tr == nil {
		return 0, false
	}
	lo, _, ok = n.tr.PeerClock(addr)
	return lo, ok
}

// DownBy is the earliest reading of Clock at which this node may declare
// the node at addr down for its silence, as its transport's watchdogs
// stand now (a frozen node is declared down after the tick time, see
// Config.TickTime); a socket that closes or breaks can end it sooner.
// Without a transport it is Clock.
func (n *Node) DownBy(addr string) time.Duration {
	if n.tr == nil {
		return n.Clock()
	}
	return n.tr.DownBy(addr)
}
