package cluster

import (
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// consulRetries bounds how often a request the agent refused with 429 is
// sent: waits of about 25, 50, 100 and 200 ms between them.
const consulRetries = 5

// retry429 is the transport of the provider's Consul client. A request the
// agent answers 429 Too Many Requests was not served: the agent refuses a
// connection beyond limits.http_max_conns_per_client (200) from one
// address, the nodes of one host together, and answers 429 when its rate
// limit is reached. retry429 sends such a request again after a short
// jittered wait, up to consulRetries times while its context lasts, then
// returns the 429.
type retry429 struct{ next http.RoundTripper }

func (r retry429) RoundTrip(req *http.Request) (*http.Response, error) {
	wait := 25 * time.Millisecond
	for attempt := 1; ; attempt++ {
		resp, err := r.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt == consulRetries ||
			req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return resp, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-req.Context().Done():
			t.Stop()
			return nil, req.Context().Err()
		case <-t.C:
		}
		wait *= 2
		again := req.Clone(req.Context())
		if req.GetBody != nil {
			if again.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = again
	}
}

// CloseIdleConnections closes the idle connections of the transport
// underneath (http.Client.CloseIdleConnections calls it).
func (r retry429) CloseIdleConnections() {
	if c, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
