package consultest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to an agent's HTTP API, and can cut them
// off: a node that talks to Consul through a proxy loses Consul when the
// test says so, while the other nodes keep it.
type Proxy struct {
	// Addr is the proxy's address, host:port: give it to the node as the
	// Consul address.
	Addr string

	target string
	l      net.Listener
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to target on a free loopback port; it stops when
// the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Cut blackholes the proxy: open connections stop carrying bytes (a call
// in flight hangs until its deadline, as across a partition) and new ones
// are accepted but never answered.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
}

// Restore ends a Cut: connections held during it are closed (the client
// dials again) and new ones are forwarded.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
}

func (p *Proxy) close() {
	_ = p.l.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = true
	return !p.cut
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *Proxy) cutNow() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(in)
			if !p.track(in) {
				_, _ = io.Copy(io.Discard, in) // hold it, answer nothing
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			p.track(out)
			defer p.untrack(out)
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 && !p.cutNow() {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				done <- struct{}{}
			}
			go pipe(out, in)
			go pipe(in, out)
			<-done
			_ = in.Close()
			_ = out.Close()
			<-done
		}()
	}
}
