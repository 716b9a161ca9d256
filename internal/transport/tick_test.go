package transport

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// The watchdog's decision: ticksPerTickTime checks in a row with nothing
// read, and any read starts the count again.
func TestSilentAfterTicksPerTickTimeQuietChecks(t *testing.T) {
	for _, tc := range []struct {
		reads []uint64 // the count at each check
		want  int      // the check that declares the peer silent, -1 for none
	}{
		{[]uint64{0, 0, 0, 0}, 3},
		{[]uint64{1, 1, 1, 1, 1}, 4},
		{[]uint64{1, 1, 1, 2, 2, 2, 2, 2}, 7},
		{[]uint64{1, 2, 3, 4, 5, 6, 7, 8}, -1},
		{[]uint64{0, 0, 0, 1, 1, 1, 2}, -1},
	} {
		var l live
		got := -1
		for i, r := range tc.reads {
			if l.silent(r) {
				got = i
				break
			}
		}
		if got != tc.want {
			t.Errorf("reads %v: silent at check %d; want %d", tc.reads, got, tc.want)
		}
	}
}

// freezer is a TCP proxy that can stop forwarding, both ways, as a
// stopped process would: its connections stay open, and what comes
// meanwhile is held.
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	thawed chan struct{} // closed while forwarding
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target, thawed: make(chan struct{})}
	close(f.thawed)
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		f.thaw()
		f.mu.Lock()
		for _, c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *freezer) accept() {
	defer f.wg.Done()
	for {
		a, err := f.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", f.target)
		if err != nil {
			_ = a.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, a, b)
		f.mu.Unlock()
		f.wg.Add(2)
		go f.pump(a, b)
		go f.pump(b, a)
	}
}

func (f *freezer) pump(dst, src net.Conn) {
	defer f.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		f.mu.Lock()
		thawed := f.thawed
		f.mu.Unlock()
		<-thawed
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	f.thawed = make(chan struct{})
	f.mu.Unlock()
}

func (f *freezer) thaw() {
	f.mu.Lock()
	select {
	case <-f.thawed:
	default:
		close(f.thawed)
	}
	f.mu.Unlock()
}

// through makes cfg dial addr through f.
func (f *freezer) through(cfg Config, addr string) Config {
	d := &net.Dialer{}
	cfg.dial = func(ctx context.Context, a string) (net.Conn, error) {
		if a == addr {
			a = f.ln.Addr().String()
		}
		return d.DialContext(ctx, "tcp", a)
	}
	return cfg
}

// A peer that stops, with its connections open, is declared down on both
// sides within the bound (TickTime + TickTime/4, asserted with room for a
// loaded machine), with ErrPeerTimeout; once it runs again the next Send
// connects anew. a's dial gave b a connection to a too (b kept its
// dialback, verify.go): both connections are frozen and both time out.
func TestFrozenPeerIsDeclaredDown(t *testing.T) {
	const tick = 400 * time.Millisecond
	a, b, sa, sb, fa, fb := throughFreezers(t, Config{TickTime: tick}, Config{TickTime: tick})
	if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	awaitPair(t, a, b)
	fa.freeze()
	fb.freeze()
	start := time.Now()
	for _, s := range []*sink{sa, sb} {
		select {
		case <-s.down:
		case <-time.After(10 * tick):
			t.Fatalf("no peer down %v after the freeze", 10*tick)
		}
		took := time.Since(start)
		if err := <-s.why; !errors.Is(err, ErrPeerTimeout) {
			t.Fatalf("down because %v; want ErrPeerTimeout", err)
		}
		t.Logf("declared down %v after the freeze (tick time %v, bound %v)", took, tick, tick+tick/4)
		if took > 3*tick {
			t.Errorf("declared down after %v; want within 3 × %v", took, tick)
		}
	}
	deadline := time.Now().Add(10 * tick)
	for a.Stats().TimedOut < 2 || b.Stats().TimedOut < 2 {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond) // polling counters, bounded by the deadline
	}
	if a.Stats().TimedOut != 2 || b.Stats().TimedOut != 2 {
		t.Fatalf("timed out: a %d, b %d; want 2 each (both connections)", a.Stats().TimedOut, b.Stats().TimedOut)
	}
	fa.thaw()
	fb.thaw()
	if err := a.Send(b.Addr(), &wire.Frame{To: "2"}); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, sb.frames); got.To != "2" {
		t.Fatalf("after the thaw: %q", got.To)
	}
}

// An idle connection ticks both ways and stays up for many tick times;
// ticks are neither delivered nor counted as frames.
func TestIdleConnectionTicksAndStaysUp(t *testing.T) {
	const tick = 500 * time.Millisecond
	a, sa := listenWith(t, Config{TickTime: tick})
	b, sb := listenWith(t, Config{TickTime: tick})
	if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
		t.Fatal(err)
	}
	wait(t, sb.frames)
	reads := func(tr *Transport) (n uint64) {
		tr.lives.mu.Lock()
		defer tr.lives.mu.Unlock()
		for l := range tr.lives.set {
			n += l.reads.Load()
		}
		return n
	}
	ra, rb := reads(a), reads(b)
	staysUp(t, 4*tick, sa, sb)
	if ra2, rb2 := reads(a), reads(b); ra2 <= ra || rb2 <= rb {
		t.Fatalf("no ticks read while idle: a %d -> %d, b %d -> %d", ra, ra2, rb, rb2)
	}
	if a.Stats().FramesOut != 1 || b.Stats().FramesIn != 1 || len(sb.frames) != 0 {
		t.Fatalf("ticks counted or delivered as frames: a %+v, b %+v, %d delivered", a.Stats(), b.Stats(), len(sb.frames))
	}
}
