package transport

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Dialback (XMPP's, for a transport): the cookie in a handshake proves
// that the dialer belongs to the cluster, not that it is the node whose
// address its Hello claims. So, once the dialer has proved the cookie and
// before the Welcome, the listener dials the claimed address itself, on a
// connection of its own whose Hello carries a Verify with the dialer's
// nonce and its own challenge, and asks: are you dialing me, now, with
// these? The node there answers yes with its digest only if one of its
// own handshakes in progress sent exactly that nonce and got exactly that
// challenge; nobody else knows both. A dialer whose address does not
// confirm is refused with REFUSAL_UNCONFIRMED, counted in Refused and
// Unconfirmed, before anything it sends is delivered.
//
// The Hello also names the address the dialer dialed (to), covered by the
// digests: a cookie holder that relays another node's handshake to a third
// one, to speak as that node there, is refused (REFUSAL_MISDIRECTED), since
// the handshake names the relay and not the third node.
//
// Costs and limits. A new connection costs one more connection and
// handshake, from the listener to the dialer, in the listener's
// DialTimeout; a listener with no connection of its own to the dialer
// keeps that one as it (see "Kept dialbacks" below). A dialer must be reachable at the address it listens on
// (the address its processes' PIDs carry, so that replies reach it: no
// change there). A node dialing itself answers from its own table, without
// a dial; two nodes dialing each other at once each answer the other's
// dialback on another connection, so neither waits for the other.

// Kept dialbacks. A dialback is a connection from the listener to the
// dialer, authenticated both ways like any other. Two nodes that talk
// both ways used to make four connections, each direction its own and
// its dialback: a hundred nodes' mesh, 19,800 handshakes (issue 19). Now
// a listener with no connection of its own to the dialer asks, in the
// Verify (keep), to keep its dialback as that connection, and the dialer
// establishes it as an inbound connection of the listener's address when
// it confirms the dial and that dial was to the address the listener's
// Hello names: nobody else knows that dial's nonces, so the connection
// comes from the node at that address, as a confirmed one would. The
// listener reserves its outbound slot for the address while it asks, so
// that a frame it sends meanwhile waits for the kept connection instead
// of dialing another; if the dialback fails or is not kept, the slot
// goes (dialing only if frames wait in it). A pair that talks both ways
// then makes two connections and two handshakes.

// dials are this node's handshakes in progress as a dialer, by nonce.
type dials struct {
	mu sync.Mutex
	m  map[string]*dial
}

type dial struct {
	to        string // the address dialed
	challenge []byte // the listener's, nil until it came
}

func (d *dials) start(nonce []byte, to string) string {
	k := string(nonce)
	d.mu.Lock()
	if d.m == nil {
		d.m = map[string]*dial{}
	}
	d.m[k] = &dial{to: to}
	d.mu.Unlock()
	return k
}

func (d *dials) challenged(nonce, challenge []byte) {
	d.mu.Lock()
	if dl := d.m[string(nonce)]; dl != nil {
		dl.challenge = challenge
	}
	d.mu.Unlock()
}

func (d *dials) end(k string) {
	d.mu.Lock()
	delete(d.m, k)
	d.mu.Unlock()
}

// confirms reports whether a handshake of ours in progress sent nonce and
// got challenge, and the address it dialed.
func (d *dials) confirms(nonce, challenge []byte) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dl := d.m[string(nonce)]
	if dl == nil || len(dl.challenge) != nonceSize || subtle.ConstantTimeCompare(dl.challenge, challenge) != 1 {
		return "", false
	}
	return dl.to, true
}

// confirm has the node at addr confirm that it is dialing this node with
// nonce and got challenge: from this node's own table if addr is its own,
// else by a dialback within ctx, which it keeps as its outbound
// connection to addr if it has none and that node dialed this one's own
// address (to).
func (t *Transport) confirm(ctx context.Context, addr, to string, nonce, challenge []byte) error {
	if addr == t.addr {
		if _, ok := t.dials.confirms(nonce, challenge); ok {
			return nil
		}
		return errors.New("no such dial of ours")
	}
	var p *peer
	if to == t.addr {
		p = t.reserve(addr)
	}
	k := kept{} // what p gets: nothing unless the dialback is kept
	defer func() {
		if p != nil {
			p.kept <- k
		}
	}()
	c, err := t.dialConn(ctx, addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	r := bufio.NewReaderSize(c, 512)
	side, err := t.greet(r, bufio.NewWriterSize(c, 512), addr,
		&wire.Verify{DialerNonce: nonce, ListenerNonce: challenge, Keep: p != nil})
	if !stop() && err == nil { // closed at the deadline
		err = ctx.Err()
	}
	if err != nil || p == nil {
		_ = c.Close()
		return err
	}
	k = kept{c: c, r: r, side: side}
	return nil
}

// kept is a dialback kept as a peer's connection, its handshake done; c
// nil: none.
type kept struct {
	c    net.Conn
	r    *bufio.Reader
	side peerSide
}

// reserve makes the outbound peer of addr, to be given a kept dialback,
// unless there is one already; nil then.
func (t *Transport) reserve(addr string) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done || t.peers[addr] != nil {
		return nil
	}
	p := &peer{t: t, addr: addr, wake: make(chan struct{}, 1), kept: make(chan kept, 1), stats: t.peerStats.of(addr)}
	t.peers[addr] = p
	t.wg.Add(1)
	go p.run()
	return p
}

// takeKept waits for the dialback p was reserved for, if it was, and
// returns its connection. Without one, p goes quietly unless frames wait
// in it (then it dials, as a peer of Send does).
func (p *peer) takeKept() (net.Conn, *bufio.Reader, peerSide, bool) {
	if p.kept == nil {
		return nil, nil, peerSide{}, false
	}
	k := <-p.kept // confirm always sends one
	t := p.t
	t.mu.Lock()
	p.mu.Lock()
	switch {
	case k.c != nil && !p.closed:
		p.conn = k.c
		p.mu.Unlock()
		t.mu.Unlock()
		return k.c, k.r, k.side, true
	case k.c == nil && len(p.queue) == 0 && !p.closed: // nothing to send: gone without a report
		p.closed = true
		if t.peers[p.addr] == p {
			delete(t.peers, p.addr)
		}
	}
	p.mu.Unlock()
	t.mu.Unlock()
	if k.c != nil {
		_ = k.c.Close()
	}
	return nil, nil, peerSide{}, false
}

// designates reports whether addr, the address a dialer says it dialed,
// names this transport's listener: this very address, or one that
// resolves to its IP and port (any address of this machine when it
// listens on all of them).
func (t *Transport) designates(ctx context.Context, addr string) bool {
	if addr == t.addr {
		return true
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	own, ok := t.ln.Addr().(*net.TCPAddr)
	if !ok {
		return false
	}
	if p, err := t.cfg.resolver.LookupPort(ctx, "tcp", port); err != nil || p != own.Port {
		return false
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := t.cfg.resolver.LookupIPAddr(ctx, host)
		if err != nil {
			return false
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if ip.Equal(own.IP) || own.IP.IsUnspecified() && isLocalIP(ip) {
			return true
		}
	}
	return false
}

// isLocalIP reports whether ip is one of this machine's.
func isLocalIP(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// Errors of identity. Test them with errors.Is.
var (
	// ErrUnconfirmed: the address a dialer claims did not confirm its
	// dial (see verify.go). It wraps ErrHandshake.
	ErrUnconfirmed = fmt.Errorf("%w: address not confirmed", ErrHandshake)
	// ErrMisdirected: the Hello was meant for another address than the
	// listener's. It wraps ErrHandshake.
	ErrMisdirected = fmt.Errorf("%w: misdirected", ErrHandshake)
)
