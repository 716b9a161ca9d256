package transport

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// throughFreezers starts two transports with configs ca and cb whose
// every dial goes through the freezer in front of its destination (fa in
// front of a, fb in front of b), dialbacks and kept dialbacks included,
// so that freezing both stops a pair as a stopped process would.
func throughFreezers(t *testing.T, ca, cb Config) (a, b *Transport, sa, sb *sink, fa, fb *freezer) {
	t.Helper()
	var addrA, addrB string
	d := &net.Dialer{}
	redirect := func(ctx context.Context, to string) (net.Conn, error) {
		switch to {
		case addrA:
			to = fa.ln.Addr().String()
		case addrB:
			to = fb.ln.Addr().String()
		}
		return d.DialContext(ctx, "tcp", to)
	}
	ca.dial, cb.dial = redirect, redirect
	a, sa = listenWith(t, ca)
	b, sb = listenWith(t, cb)
	addrA, addrB = a.Addr(), b.Addr()
	fa, fb = newFreezer(t, addrA), newFreezer(t, addrB)
	return a, b, sa, sb, fa, fb
}

// pairOfTransports starts two transports with TickTime tick through
// freezers (throughFreezers) that have sent each other a frame, so that
// each has an outbound connection to the other and an inbound one from
// it. It returns once both connections are established at both ends.
func pairOfTransports(t *testing.T, tick time.Duration) (a, b *Transport, sa, sb *sink, fa, fb *freezer) {
	t.Helper()
	a, b, sa, sb, fa, fb = throughFreezers(t, Config{TickTime: tick}, Config{TickTime: tick})
	if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(a.Addr(), &wire.Frame{To: "2"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	wait(t, sa.frames)
	awaitPair(t, a, b)
	return a, b, sa, sb, fa, fb
}

// awaitPair waits until a and b each have an established connection to
// the other and one from it.
func awaitPair(t *testing.T, a, b *Transport) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for livesOf(a, true) == nil || livesOf(a, false) == nil || livesOf(b, true) == nil || livesOf(b, false) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the connections both ways were not established within 10 s")
		}
		time.Sleep(time.Millisecond) // polling the watchdog's set, bounded by the deadline
	}
}

// staysUp fails the test if the dialer's sink sa or the listener's sb
// reports a peer down within d: what it observes is an absence over d.
func staysUp(t *testing.T, d time.Duration, sa, sb *sink) {
	t.Helper()
	idle := time.NewTimer(d)
	defer idle.Stop()
	select {
	case addr := <-sa.down:
		t.Fatalf("the dialer reported %s down while idle: %v", addr, <-sa.why)
	case addr := <-sb.down:
		t.Fatalf("the listener reported %s down while idle: %v", addr, <-sb.why)
	case <-idle.C:
	}
}

// livesOf returns tr's established connections, outbound or inbound.
func livesOf(tr *Transport, outbound bool) []*live {
	tr.lives.mu.Lock()
	defer tr.lives.mu.Unlock()
	var out []*live
	for l := range tr.lives.set {
		if (l.p != nil) == outbound {
			out = append(out, l)
		}
	}
	return out
}

func readsOf(ls []*live) (n uint64) {
	for _, l := range ls {
		n += l.reads.Load()
	}
	return n
}

// Two nodes that talk both ways tick once each per interval, on their
// outbound connections: a listener whose node has an outbound connection
// to the dialer writes no tick bytes (before, each of the two connections
// ticked both ways), and neither side declares the other down while idle.
func TestPairTicksOnceEachWay(t *testing.T) {
	const tick = 400 * time.Millisecond
	a, b, sa, sb, _, _ := pairOfTransports(t, tick)
	outA, outB := readsOf(livesOf(a, true)), readsOf(livesOf(b, true))
	inA, inB := readsOf(livesOf(a, false)), readsOf(livesOf(b, false))
	staysUp(t, 3*tick, sa, sb) // 12 tick intervals
	// One tick byte may have been on its way when the counts were taken.
	if got := readsOf(livesOf(a, true)) - outA; got > 1 {
		t.Errorf("a's outbound connection read %d tick bytes in 12 intervals; want none (b ticks on its own connection)", got)
	}
	if got := readsOf(livesOf(b, true)) - outB; got > 1 {
		t.Errorf("b's outbound connection read %d tick bytes in 12 intervals; want none", got)
	}
	if readsOf(livesOf(a, false)) <= inA || readsOf(livesOf(b, false)) <= inB {
		t.Errorf("no ticks read on the inbound connections while idle")
	}
	if a.Stats().TimedOut != 0 || b.Stats().TimedOut != 0 {
		t.Errorf("timed out while idle: a %d, b %d", a.Stats().TimedOut, b.Stats().TimedOut)
	}
}
