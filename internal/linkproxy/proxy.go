// Package linkproxy puts a TCP proxy on the link between two nodes so a
// test can cut it and heal it: the nodes dial each other through the
// proxies (actor.Config.Dial) and a cut either drops the link's
// connections or stalls them, as a partition does, while every other link
// keeps working. internal/consultest.Proxy does the same for a node's
// link to Consul.
package linkproxy

import (
	"errors"
	"net"
	"sync"
)

// Mode is how a cut treats the link.
type Mode int

const (
	// Drop closes the link's connections and refuses new ones (closed as
	// soon as accepted) until Heal: the peers see the link break at once.
	Drop Mode = iota + 1
	// Stall keeps the connections open and carries no byte either way,
	// and new ones are accepted and left silent, until Heal: the peers
	// see silence and must tell the link down by their ticks. Heal lets
	// what was held through, on the connections still open.
	Stall
)

// ErrClosed is returned by Cut and Heal after Close.
var ErrClosed = errors.New("linkproxy: closed")

// Proxy forwards every connection made to Addr to its target.
type Proxy struct {
	addr   string
	target string
	l      net.Listener

	mu     sync.Mutex
	mode   Mode          // 0: forwarding
	healed chan struct{} // closed by Heal; stalled pipes wait on it
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// New starts a proxy to target on a free loopback port. Close stops it.
func New(target string) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]struct{}{}, healed: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's address: dial it instead of the target.
func (p *Proxy) Addr() string { return p.addr }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Cut cuts the link in mode m until Heal.
func (p *Proxy) Cut(m Mode) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.mode == 0 {
		p.healed = make(chan struct{})
	}
	p.mode = m
	if m == Drop {
		for c := range p.conns {
			_ = c.Close()
		}
	}
	return nil
}

// Heal ends a cut: new connections are forwarded, and stalled ones carry
// what they held.
func (p *Proxy) Heal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.mode != 0 {
		p.mode = 0
		close(p.healed)
	}
	return nil
}

// Close stops the proxy and closes its connections; it returns once its
// goroutines ended.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.l.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	if p.mode != 0 {
		close(p.healed)
		p.mode = 0
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// track registers c; false if it must be closed now (a drop, or closed).
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.mode == Drop {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// gate returns nil while forwarding, else the channel Heal closes (for a
// stall) or false for a drop or a closed proxy.
func (p *Proxy) gate() (<-chan struct{}, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed || p.mode == Drop:
		return nil, false
	case p.mode == Stall:
		return p.healed, true
	}
	return nil, true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		if !p.track(in) {
			_ = in.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(in)
	}
}

func (p *Proxy) serve(in net.Conn) {
	defer p.wg.Done()
	defer p.untrack(in)
	// A stall holds a new connection silent too: wait before dialing.
	ch, ok := p.gate()
	for ok && ch != nil {
		<-ch
		ch, ok = p.gate()
	}
	if !ok {
		return
	}
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(out) {
		_ = out.Close()
		return
	}
	defer p.untrack(out)
	done := make(chan struct{}, 2)
	go func() { p.pipe(out, in); done <- struct{}{} }()
	go func() { p.pipe(in, out); done <- struct{}{} }()
	<-done
	_ = in.Close()
	_ = out.Close()
	<-done
}

// pipe copies src to dst, holding each read while the link is stalled.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			ch, ok := p.gate()
			for ok && ch != nil {
				<-ch
				ch, ok = p.gate()
			}
			if !ok {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
