package transport

import (
	"net"
	"sync"
	"time"
)

// Refused connections are logged at most refusalBurst times per peer host
// every refusalWindow; the first line logged after some were suppressed
// says how many ("suppressed"). Every refusal is counted whether logged or
// not (Stats.RefusalsLogged, Stats.RefusalsSuppressed). Hosts are kept for
// refusalKeys distinct hosts at most; beyond that the others share one
// allowance, so that a flood from many addresses still logs a bounded
// number of lines.
const (
	refusalBurst  = 10
	refusalWindow = 10 * time.Second
	refusalKeys   = 1024
	otherHosts    = "(other hosts)"
)

// logLimiter decides which refusals are logged. It does no I/O and reads
// no clock: the caller passes the time.
type logLimiter struct {
	mu    sync.Mutex
	burst int
	every time.Duration
	max   int
	keys  map[string]*logWindow
}

// logWindow is one key's current window: when it started, how many lines
// it logged, and how many it suppressed since the last line logged.
type logWindow struct {
	start      time.Time
	logged     int
	suppressed uint64
}

func newLogLimiter(burst int, every time.Duration, maxKeys int) *logLimiter {
	return &logLimiter{burst: burst, every: every, max: maxKeys, keys: map[string]*logWindow{}}
}

// allow reports whether a line for key may be logged at now, and if so how
// many lines for key were suppressed since the last one logged.
func (l *logLimiter) allow(key string, now time.Time) (ok bool, suppressed uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.keys[key]
	if w == nil {
		if len(l.keys) >= l.max {
			l.forget(now)
		}
		if len(l.keys) >= l.max {
			key = otherHosts
			w = l.keys[key]
		}
		if w == nil {
			w = &logWindow{start: now}
			l.keys[key] = w
		}
	}
	if now.Sub(w.start) >= l.every {
		w.start, w.logged = now, 0
	}
	if w.logged >= l.burst {
		w.suppressed++
		return false, 0
	}
	w.logged++
	suppressed, w.suppressed = w.suppressed, 0
	return true, suppressed
}

// forget drops the keys whose window has ended with nothing suppressed;
// their next line is logged anyway. l.mu is held.
func (l *logLimiter) forget(now time.Time) {
	for k, w := range l.keys {
		if now.Sub(w.start) >= l.every && w.suppressed == 0 {
			delete(l.keys, k)
		}
	}
}

// hostOf is the host of a remote address, the key refusals are limited by
// (the port of an inbound connection is new each time).
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// logRefusal counts a refused connection with peer and logs it as msg
// unless the rate limit suppresses it.
func (t *Transport) logRefusal(msg, peer string, err error) {
	ok, suppressed := t.refusals.allow(hostOf(peer), time.Now())
	if !ok {
		t.refusalsSuppressed.Add(1)
		return
	}
	t.refusalsLogged.Add(1)
	if suppressed > 0 {
		t.log.Warn(msg, "peer", peer, "error", err, "suppressed", suppressed)
		return
	}
	t.log.Warn(msg, "peer", peer, "error", err)
}
