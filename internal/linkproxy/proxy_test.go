package linkproxy

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type echo struct{ actor.BaseServer }

func (echo) HandleCall(_ *actor.Process, msg any) (any, error) { return msg, nil }

// pair starts nodes a and b, each dialing the other through a mesh, and an
// echo process named "echo" on b.
func pair(t *testing.T, tick time.Duration) (*actor.Node, *actor.PID, *Mesh) {
	t.Helper()
	ports := map[string]string{}
	for _, n := range []string{"a", "b"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[n] = l.Addr().String()
		l.Close()
	}
	m, err := NewMesh(ports)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	nodes := map[string]*actor.Node{}
	for name, addr := range ports {
		n, err := actor.Start(actor.Config{Name: name + "@localhost", Listen: addr, TickTime: tick, Dial: Dialer(m.Routes(name))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = n.Stop(ctx)
		})
		nodes[name] = n
	}
	if _, err := nodes["b"].Spawn(context.Background(), echo{}, actor.WithName("echo")); err != nil {
		t.Fatal(err)
	}
	return nodes["a"], actor.NamedPID(ports["b"], "echo"), m
}

func call(n *actor.Node, pid *actor.PID, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := n.Call(ctx, pid, wrapperspb.String("hi"))
	return err
}

// until retries f until it returns nil, for at most d.
func until(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	end := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: still %v after %v", what, err, d)
		}
		time.Sleep(50 * time.Millisecond) // a retry's pace, not a synchronisation
	}
}

// A drop breaks the link at once and a stall within the tick bound; both
// heal, and the calls across the link go through again.
func TestCutAndHeal(t *testing.T) {
	for _, mode := range []Mode{Drop, Stall} {
		t.Run(map[Mode]string{Drop: "drop", Stall: "stall"}[mode], func(t *testing.T) {
			tick := time.Second
			a, pid, m := pair(t, tick)
			until(t, 10*time.Second, "before the cut", func() error { return call(a, pid, time.Second) })
			if err := m.Cut("a", "b", mode); err != nil {
				t.Fatal(err)
			}
			// Every call fails while the link is cut, and fails in time:
			// at once for a drop, within its deadline for a stall.
			start := time.Now()
			for range 3 {
				err := call(a, pid, 3*tick)
				if err == nil {
					t.Fatal("a call went through a cut link")
				}
				if !errors.Is(err, actor.ErrNodeDown) && !errors.Is(err, actor.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("a call across a cut link: %v, want a typed error", err)
				}
			}
			if mode == Drop && time.Since(start) > 5*time.Second {
				t.Fatalf("calls across a dropped link took %v, want them to fail at once", time.Since(start))
			}
			if err := m.Heal("a", "b"); err != nil {
				t.Fatal(err)
			}
			until(t, 15*time.Second, "after the heal", func() error { return call(a, pid, time.Second) })
		})
	}
}

func TestRoutes(t *testing.T) {
	r := map[string]string{"127.0.0.1:1": "127.0.0.1:2", "127.0.0.1:3": "127.0.0.1:4"}
	got, err := ParseRoutes(FormatRoutes(r))
	if err != nil || len(got) != 2 || got["127.0.0.1:1"] != "127.0.0.1:2" || got["127.0.0.1:3"] != "127.0.0.1:4" {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	for _, bad := range []string{"x", "=y", "x=", "a=b,,c=d"} {
		if _, err := ParseRoutes(bad); !errors.Is(err, ErrBadRoutes) {
			t.Errorf("ParseRoutes(%q) = %v, want ErrBadRoutes", bad, err)
		}
	}
	m, err := NewMesh(map[string]string{"a": "127.0.0.1:1", "b": "127.0.0.1:3"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Cut("a", "c", Drop); !errors.Is(err, ErrUnknown) {
		t.Fatalf("cut of an unknown node: %v", err)
	}
	p := m.proxies[[2]string{"a", "b"}]
	p.Close()
	if err := p.Cut(Stall); !errors.Is(err, ErrClosed) {
		t.Fatalf("cut after close: %v", err)
	}
}

// ParseRoutes takes any string without panicking, and what it accepts
// formats back to routes that parse the same.
func FuzzParseRoutes(f *testing.F) {
	for _, s := range []string{"", "127.0.0.1:1=127.0.0.1:2", "a=b,c=d", "x", "=y", "a=b,,c=d", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoutes(s)
		if err != nil {
			if !errors.Is(err, ErrBadRoutes) {
				t.Fatalf("ParseRoutes(%q): %v, not ErrBadRoutes", s, err)
			}
			return
		}
		back, err := ParseRoutes(FormatRoutes(r))
		if err != nil || len(back) != len(r) {
			t.Fatalf("ParseRoutes(%q) = %v; formatted and parsed again: %v, %v", s, r, back, err)
		}
		for k, v := range r {
			if back[k] != v {
				t.Fatalf("ParseRoutes(%q): %q=%q came back as %q", s, k, v, back[k])
			}
		}
	})
}
