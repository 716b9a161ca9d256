package transport

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// slowStart is a connection whose first read (the Challenge, on a
// dialer's connection) returns only after a delay: the dialer stalls
// between the listener's Challenge and its own Proof, as a paused node
// would.
type slowStart struct {
	net.Conn
	once  sync.Once
	delay time.Duration
}

func (c *slowStart) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.once.Do(func() { time.Sleep(c.delay) }) // the stall under test, not a wait for anything
	return n, err
}

// The listener's bound of the dialer's clock: the two clocks count from
// epochs an hour apart, so the listener's is an hour behind; PeerClock's
// lower bound never exceeds that offset, and the round trip it reports
// covers the rest, also when the dialer stalls in the middle of the
// handshake (then the bound is loose by the stall, never wrong).
func TestPeerClockBoundsTheOffset(t *testing.T) {
	for _, stall := range []time.Duration{0, 300 * time.Millisecond} {
		b, sb := listenWith(t, Config{})
		cfg := Config{Epoch: time.Now().Add(-time.Hour)}
		d := &net.Dialer{}
		cfg.dial = func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil || stall == 0 {
				return c, err
			}
			return &slowStart{Conn: c, delay: stall}, nil
		}
		a, _ := listenWith(t, cfg)
		if _, _, ok := b.PeerClock(a.Addr()); ok {
			t.Fatal("a bound before any connection")
		}
		if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
			t.Fatal(err)
		}
		wait(t, sb.frames)
		lo, spread, ok := b.PeerClock(a.Addr())
		truth := a.cfg.Epoch.Sub(b.cfg.Epoch) // b.Clock() - a.Clock() at any instant
		if !ok || lo > truth || lo+spread < truth {
			t.Fatalf("stall %v: bound [%v, %v] (ok %v); the true offset %v is outside", stall, lo, lo+spread, ok, truth)
		}
		if spread < stall || spread > stall+5*time.Second {
			t.Fatalf("stall %v: spread %v", stall, spread)
		}
		// b kept its dialback as its connection to a (verify.go): a is
		// that connection's listener, and its bound holds too.
		if lo, spread, ok := a.PeerClock(b.Addr()); ok && (lo > -truth || lo+spread < -truth) {
			t.Fatalf("stall %v: a's bound [%v, %v] of b leaves out the true offset %v", stall, lo, lo+spread, -truth)
		}
	}
}

// DownBy is never later than the watchdog's verdict: read right after the
// peer froze, the clock has passed it when the peer is declared down. On a
// live connection it is at least two tick intervals away.
func TestDownByPrecedesTheTimeout(t *testing.T) {
	const tick = 400 * time.Millisecond
	b, sb := listenWith(t, Config{TickTime: tick})
	f := newFreezer(t, b.Addr())
	a, sa := listenWith(t, f.through(Config{TickTime: tick}, b.Addr()))
	if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	if left := a.DownBy(b.Addr()) - a.Clock(); left < tick/4 {
		t.Fatalf("a live peer may be declared down in %v", left)
	}
	f.freeze()
	by := a.DownBy(b.Addr())
	wait(t, sa.down)
	if now := a.Clock(); now < by {
		t.Fatalf("declared down at %v, before DownBy said (%v)", now, by)
	}
	wait(t, sb.down)
	if left := b.DownBy(a.Addr()) - b.Clock(); left < 3*tick/4-50*time.Millisecond {
		t.Fatalf("no connection: a new one may be declared down in %v", left)
	}
}
