package transport

import "time"

// The clocks of two nodes, compared without setting or synchronising
// either. Each transport counts its clock from Config.Epoch on Go's
// monotonic clock. The handshake of an inbound connection bounds how far
// this node's clock is ahead of its dialer's (handshake.go); the watchdog
// of every connection to or from a peer says how soon, at the earliest, it
// could declare that peer down for silence (tick.go). An exchange uses the
// two to keep a keyed request from starting on a controller after its node
// was declared down (exchange's keyed.go): see docs/request-response.md.
//
// The bounds assume that both clocks run at one rate, which they do on one
// machine; across machines their rates differ by the clocks' drift (a few
// parts per million under NTP), which adds that much of the connection's
// age to the error.

// Clock is the transport's time: how long since Config.Epoch, on the
// monotonic clock.
func (t *Transport) Clock() time.Duration { return time.Since(t.cfg.Epoch) }

// PeerClock returns a lower bound of this transport's Clock minus the
// Clock of the node at addr, both read at one instant, as the handshake of
// the established connection from addr measured it: lo never exceeds the
// true difference, and spread is how much it may fall short (the
// handshake's round trip). ok is false when no connection from addr is
// established: frames from addr come on that one only.
func (t *Transport) PeerClock(addr string) (lo, spread time.Duration, ok bool) {
	t.mu.Lock()
	in := t.from[addr]
	t.mu.Unlock()
	if in == nil {
		return 0, 0, false
	}
	return in.live.clock.clockLo, in.live.clock.clockSpread, true
}

// DownBy returns the earliest reading of Clock at which this transport may
// declare the node at addr down for its silence, as its watchdogs stand
// now: a connection needs a tick time of checks in a row that found
// nothing read, one per tick interval, and checks can come an interval
// early at most (a ticker's late tick, then its next on time). With no
// connection to or from addr, a new one's: at least three intervals of
// this node's tick time. Other breaks (a closed socket, a frame that stops
// halfway, for FrameTimeout) may come sooner.
func (t *Transport) DownBy(addr string) time.Duration {
	every := t.tickInterval()
	left := ticksPerTickTime
	found := false
	t.lives.mu.Lock()
	for l := range t.lives.set {
		if l.addr != addr {
			continue
		}
		n := max(l.limit, ticksPerTickTime) - int(l.quiet.Load())
		if !found || n < left {
			left, found = n, true
		}
	}
	t.lives.mu.Unlock()
	return t.Clock() + time.Duration(max(left-1, 0))*every
}
