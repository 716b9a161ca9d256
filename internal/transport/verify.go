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
// DialTimeout. A dialer must be reachable at the address it listens on
// (the address its processes' PIDs carry, so that replies reach it: no
// change there). A node dialing itself answers from its own table, without
// a dial; two nodes dialing each other at once each answer the other's
// dialback on another connection, so neither waits for the other.

// dials are this node's handshakes in progress as a dialer, by nonce.
type dials struct {
	mu sync.Mutex
	m  map[string][]byte // dialer nonce -> the listener's challenge (nil until it came)
}

func (d *dials) start(nonce []byte) string {
	k := string(nonce)
	d.mu.Lock()
	if d.m == nil {
		d.m = map[string][]byte{}
	}
	d.m[k] = nil
	d.mu.Unlock()
	return k
}

func (d *dials) challenged(nonce, challenge []byte) {
	d.mu.Lock()
	if _, ok := d.m[string(nonce)]; ok {
		d.m[string(nonce)] = challenge
	}
	d.mu.Unlock()
}

func (d *dials) end(k string) {
	d.mu.Lock()
	delete(d.m, k)
	d.mu.Unlock()
}

// confirms reports whether a handshake of ours in progress sent nonce and
// got challenge.
func (d *dials) confirms(nonce, challenge []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	got, ok := d.m[string(nonce)]
	return ok && len(got) == nonceSize && subtle.ConstantTimeCompare(got, challenge) == 1
}

// confirm has the node at addr confirm that it is dialing this node with
// nonce and got challenge: from this node's own table if addr is its own,
// else by a dialback within ctx.
func (t *Transport) confirm(ctx context.Context, addr string, nonce, challenge []byte) error {
	if addr == t.addr {
		if t.dials.confirms(nonce, challenge) {
			return nil
		}
		return errors.New("no such dial of ours")
	}
	c, err := t.dialConn(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	defer context.AfterFunc(ctx, func() { _ = c.Close() })()
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	_, err = t.greet(bufio.NewReaderSize(c, 512), bufio.NewWriterSize(c, 512), addr,
		&wire.Verify{DialerNonce: nonce, ListenerNonce: challenge})
	return err
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
