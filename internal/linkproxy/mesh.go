package linkproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// ErrUnknown is returned for a node the mesh does not hold.
var ErrUnknown = errors.New("linkproxy: unknown node")

// Mesh is a proxy on each direction of every link between a set of nodes:
// node a dials node b through the proxy (a, b), so cutting the pair's two
// proxies cuts the link between a and b, and only it.
type Mesh struct {
	addrs   map[string]string    // node -> the address it listens on
	proxies map[[2]string]*Proxy // (from, to) -> proxy
}

// NewMesh starts the proxies between the nodes, given by name with the
// address each listens on.
func NewMesh(addrs map[string]string) (*Mesh, error) {
	m := &Mesh{addrs: addrs, proxies: map[[2]string]*Proxy{}}
	for a := range addrs {
		for b, to := range addrs {
			if a == b {
				continue
			}
			p, err := New(to)
			if err != nil {
				m.Close()
				return nil, err
			}
			m.proxies[[2]string{a, b}] = p
		}
	}
	return m, nil
}

// Routes is what node from dials instead of each other node's address:
// listen address -> proxy address.
func (m *Mesh) Routes(from string) map[string]string {
	r := map[string]string{}
	for k, p := range m.proxies {
		if k[0] == from {
			r[p.Target()] = p.Addr()
		}
	}
	return r
}

// Cut cuts the link between a and b, both ways, in mode mode.
func (m *Mesh) Cut(a, b string, mode Mode) error {
	return m.each(a, b, func(p *Proxy) error { return p.Cut(mode) })
}

// Heal heals the link between a and b.
func (m *Mesh) Heal(a, b string) error { return m.each(a, b, (*Proxy).Heal) }

func (m *Mesh) each(a, b string, f func(*Proxy) error) error {
	var errs []error
	for _, k := range [][2]string{{a, b}, {b, a}} {
		p, ok := m.proxies[k]
		if !ok {
			return fmt.Errorf("%w: %s-%s", ErrUnknown, a, b)
		}
		errs = append(errs, f(p))
	}
	return errors.Join(errs...)
}

// Close stops every proxy.
func (m *Mesh) Close() {
	for _, p := range m.proxies {
		_ = p.Close()
	}
}

// Dialer returns a dial function for actor.Config.Dial that goes through
// routes (listen address -> proxy address, as Routes gives) and dials any
// other address directly.
func Dialer(routes map[string]string) func(ctx context.Context, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		if via, ok := routes[addr]; ok {
			addr = via
		}
		return d.DialContext(ctx, "tcp", addr)
	}
}

// FormatRoutes writes routes as "to=via,to=via" (to pass to a child process).
func FormatRoutes(routes map[string]string) string {
	var b strings.Builder
	for to, via := range routes {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(to + "=" + via)
	}
	return b.String()
}

// ErrBadRoutes is returned by ParseRoutes for a malformed list.
var ErrBadRoutes = errors.New("linkproxy: bad routes")

// ParseRoutes reads what FormatRoutes wrote.
func ParseRoutes(s string) (map[string]string, error) {
	r := map[string]string{}
	if s == "" {
		return r, nil
	}
	for _, kv := range strings.Split(s, ",") {
		to, via, ok := strings.Cut(kv, "=")
		if !ok || to == "" || via == "" {
			return nil, fmt.Errorf("%w: %q", ErrBadRoutes, kv)
		}
		r[to] = via
	}
	return r, nil
}
