package switchboardtest

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testLogger returns a logger that writes to t.Log until the test's last
// cleanup, and drops what comes after (t.Log panics once a test is over).
func testLogger(t testing.TB, level slog.Leveler) *slog.Logger {
	w := &tbWriter{t: t}
	t.Cleanup(w.close) // registered first, so it runs after every other cleanup
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type tbWriter struct {
	mu   sync.RWMutex
	t    testing.TB
	done bool
}

func (w *tbWriter) Write(b []byte) (int, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(b), "\n"))
	}
	return len(b), nil
}

func (w *tbWriter) close() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
