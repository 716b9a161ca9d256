package transport

import (
	"sync"
	"sync/atomic"
	"time"
)

// inflight is the node-wide budget of Limits.MaxInflightBytes: a weighted
// semaphore whose waiters are served in order of arrival, so that a large
// frame is not starved by smaller ones that keep coming.
type inflight struct {
	mu      sync.Mutex
	max     int64
	used    int64
	waiters []*inflightWaiter
	waits   atomic.Uint64 // acquires that had to wait
}

type inflightWaiter struct {
	n     int64
	ready chan struct{} // closed when granted
}

func newInflight(max int) *inflight { return &inflight{max: int64(max)} }

// acquire takes n bytes, waiting for room until deadline or until stop is
// closed, and calling touch (if not nil) every interval while it waits;
// false if no room came in time. n is at most max (see
// Limits.withDefaults).
func (b *inflight) acquire(n int64, deadline time.Time, stop <-chan struct{}, every time.Duration, touch func()) bool {
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.max {
		b.used += n
		b.mu.Unlock()
		return true
	}
	w := &inflightWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.waits.Add(1)
	b.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	tick := time.NewTicker(every)
	defer tick.Stop()
wait:
	for {
		select {
		case <-w.ready:
			return true
		case <-tick.C:
			if touch != nil {
				touch()
			}
		case <-timer.C:
			break wait
		case <-stop:
			break wait
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // granted meanwhile: give it back
		b.used -= n
	default:
		for i, o := range b.waiters {
			if o == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				break
			}
		}
	}
	b.grant() // the waiters behind w may fit now
	return false
}

// release gives back n bytes taken by acquire.
func (b *inflight) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.grant()
	b.mu.Unlock()
}

// grant serves the waiters at the front that fit. b.mu is held.
func (b *inflight) grant() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.max {
		w := b.waiters[0]
		b.waiters[0] = nil
		b.waiters = b.waiters[1:]
		b.used += w.n
		close(w.ready)
	}
}

// inUse returns the bytes taken now.
func (b *inflight) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
