package transport

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Two nodes whose TickTimes differ tenfold: the connection uses the
// larger on both sides, whichever dialed. Idle for longer than the short
// TickTime's four ticks of the long one, neither declares the other down
// (without the exchange of tick times the short side cut every idle
// connection within its own TickTime, as the long side ticks only every
// 250 ms); frozen, both declare it down after the long TickTime, not the
// short one.
func TestTickTimesDifferTheLargerBounds(t *testing.T) {
	const short, long = 100 * time.Millisecond, time.Second
	for _, dialerTick := range []time.Duration{short, long} {
		listenerTick := short + long - dialerTick
		t.Run(fmt.Sprintf("dialer=%v", dialerTick), func(t *testing.T) {
			t.Parallel()
			a, b, sa, sb, fa, fb := throughFreezers(t, Config{TickTime: dialerTick}, Config{TickTime: listenerTick})
			if err := a.Send(b.Addr(), &wire.Frame{To: "1"}); err != nil {
				t.Fatal(err)
			}
			wait(t, sb.frames)
			awaitPair(t, a, b) // b keeps its dialback as its connection to a (verify.go)
			for _, tr := range []*Transport{a, b} {
				tr.lives.mu.Lock()
				for l := range tr.lives.set {
					if l.tick != long {
						t.Errorf("the connection's tick time is %v; want %v", l.tick, long)
					}
				}
				tr.lives.mu.Unlock()
			}
			staysUp(t, 3*long/2, sa, sb)
			fa.freeze()
			fb.freeze()
			start := time.Now()
			for _, s := range []*sink{sa, sb} {
				select {
				case <-s.down:
				case <-time.After(10 * long):
					t.Fatalf("no peer down %v after the freeze", 10*long)
				}
				took := time.Since(start)
				if err := <-s.why; !errors.Is(err, ErrPeerTimeout) {
					t.Fatalf("down because %v; want ErrPeerTimeout", err)
				}
				t.Logf("declared down %v after the freeze", took)
				// The last byte read came a long tick interval (250 ms)
				// before the freeze or less, later on a loaded machine;
				// with the short TickTime it would be down within 125 ms.
				if took < long/2 {
					t.Errorf("declared down after %v: sooner than the larger tick time %v allows", took, long)
				}
				if took > 3*long {
					t.Errorf("declared down after %v; want within 3 × %v", took, long)
				}
			}
		})
	}
}
