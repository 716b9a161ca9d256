package cluster

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A request the server refuses with 429 is sent again, body and all, until
// it is served; after consulRetries refusals the 429 is returned; a
// context that ends stops the retries.
func TestRetry429(t *testing.T) {
	var refuse, calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if refuse.Add(-1) >= 0 {
			http.Error(w, "Your IP is issuing too many concurrent connections", http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	client := &http.Client{Transport: retry429{http.DefaultTransport}}
	defer client.CloseIdleConnections()
	put := func(ctx context.Context) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL, strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		return client.Do(req)
	}

	refuse.Store(2)
	resp, err := put(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "body" || calls.Load() != 3 {
		t.Fatalf("after 2 refusals: %d %q, %d calls", resp.StatusCode, b, calls.Load())
	}

	calls.Store(0)
	refuse.Store(100)
	resp, err = put(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || calls.Load() != consulRetries {
		t.Fatalf("always refused: %d after %d calls, want 429 after %d", resp.StatusCode, calls.Load(), consulRetries)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := put(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("retries past the deadline: %v", err)
	}
}
