package transport

import (
	"bufio"
	"context"
	"errors"
	"net"
	"time"
)

// Identity: a connection speaks only for the node it authenticated as,
// and nothing one connection does changes what this node believes about
// another.
//
// An inbound connection is established for its dialer's address once its
// handshake is done and that address confirmed the dial (verify.go). At
// most one inbound connection is established per address: its frames are
// delivered as that address's, and its break is what PeerDown reports. A
// connection that is not, or no longer, the established one reports
// nothing when it breaks; a refused handshake reports nothing either.
//
// Two connections claiming one address. A new confirmed connection from an
// address replaces the established one, which is closed and reported down
// once (ErrReconnected, or ErrRestarted if the incarnations differ) before
// the new one delivers anything. Erlang keeps the established connection
// unless it is known dead because it cannot tell a newcomer from an
// impostor; here the dialback does, and a confirmed newcomer is the node
// itself saying that its old connection is dead: a node keeps one outbound
// connection per peer and dials again only once it has given the previous
// one up (it broke, timed out, was disconnected on that side) or it
// restarted. Keeping the old one would refuse the real node's new
// connection until the old one's tick timeout, and meanwhile the node
// would see this one down and this one would see it up.
//
// Incarnations. Each transport has one (Config.Incarnation), sent in the
// handshake both ways. A connection, in either direction, that a new
// connection to the same address shows to be to another incarnation is
// to the node's previous life: it is cut and reported down with
// ErrRestarted.

// Errors of identity and liveness, PeerDown's reasons. Test them with
// errors.Is.
var (
	// ErrReconnected: the peer opened a new connection, which replaced
	// this one.
	ErrReconnected = errors.New("transport: the peer connected again")
	// ErrRestarted: the peer at this address is a new incarnation.
	ErrRestarted = errors.New("transport: the peer restarted")
	// ErrPeerTimeout: nothing came from the peer for Config.TickTime.
	ErrPeerTimeout = errors.New("transport: the peer is silent")
)

// open runs the listener's side of the handshake on an accepted
// connection, establishes it and watches its liveness; false if it was
// refused, or a dialback, now answered.
func (t *Transport) open(c net.Conn, r *bufio.Reader, in *inbound) (string, bool) {
	_ = c.SetDeadline(time.Now().Add(t.cfg.DialTimeout))
	err := serverHandshake(c)
	from, side := "", peerSide{}
	if err == nil {
		from, side, err = t.welcome(r, bufio.NewWriterSize(c, 512))
	}
	t.pending.Add(-1) // see admit
	if err != nil {
		if !t.closing() && !errors.Is(err, errAnswered) {
			t.handshakeFailed(c.RemoteAddr().String(), err)
		}
		return "", false
	}
	_ = c.SetDeadline(time.Time{})
	t.initLive(&in.live, c, nil, from, side)
	if !t.establish(in) {
		return "", false
	}
	t.watch(&in.live)
	return from, true
}

// establish makes in the established connection of its address, once
// the one established before has been closed and reported down; false
// if the transport closes meanwhile.
func (t *Transport) establish(in *inbound) bool {
	addr := in.live.addr
	for {
		t.mu.Lock()
		if t.done {
			t.mu.Unlock()
			return false
		}
		old := t.from[addr]
		if old == nil {
			in.from = addr
			t.from[addr] = in
			t.mu.Unlock()
			return true
		}
		t.mu.Unlock()
		why := ErrReconnected
		if old.live.inc != in.live.inc {
			why = ErrRestarted
		}
		old.live.cut(why)
		timer := time.NewTimer(t.cfg.DialTimeout)
		select {
		case <-old.done: // its reader has reported it down
		case <-timer.C: // its handler does not return: report it here
			t.mu.Lock()
			stuck := t.from[addr] == old
			if stuck {
				delete(t.from, addr)
			}
			t.mu.Unlock()
			if stuck {
				t.peerDown(addr, why)
			}
		case <-t.stop:
		}
		timer.Stop()
	}
}

// release ends in's time as the established connection of its address;
// true if it was that, so that its break is to be reported.
func (t *Transport) release(in *inbound) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if in.from != "" && t.from[in.from] == in {
		delete(t.from, in.from)
		return true
	}
	return false
}

// bound returns a context that ends after d or when the transport closes.
func (t *Transport) bound(d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	go func() {
		select {
		case <-t.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
