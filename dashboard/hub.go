package dashboard

import (
	"encoding/json"
	"sync"
)

// hub hands each snapshot, encoded once, to every watcher: a channel of
// one, holding the latest snapshot the watcher has not taken yet (a slow
// watcher misses snapshots, it never holds the dashboard up).
type hub struct {
	mu       sync.Mutex
	watchers map[chan []byte]struct{}
	latest   []byte
	wake     chan struct{} // a watcher came while nobody watched
}

func (h *hub) init() {
	h.watchers = map[chan []byte]struct{}{}
	h.wake = make(chan struct{}, 1)
}

// watch adds a watcher. It gets the latest snapshot at once, if there is
// one, and every later one.
func (h *hub) watch() chan []byte {
	c := make(chan []byte, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers[c] = struct{}{}
	if h.latest != nil {
		c <- h.latest
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return c
}

func (h *hub) unwatch(c chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watchers, c)
	if len(h.watchers) == 0 {
		h.latest = nil // stale by the time someone comes again
	}
}

func (h *hub) watched() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.watchers) > 0
}

func (h *hub) publish(s Snapshot) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = b
	for c := range h.watchers {
		select {
		case <-c: // not taken yet: replaced by the newer one
		default:
		}
		c <- b
	}
	return nil
}
