package switchboardtest

import (
	"log/slog"
	"time"
)

// DefaultTimeout bounds every wait of the harness (a cluster that forms, an
// exchange that becomes visible, a controller that joins, a node that
// stops, a message a probe expects) unless WithTimeout says otherwise.
const DefaultTimeout = 10 * time.Second

// Option configures NewCluster.
type Option func(*config)

type config struct {
	timeout     time.Duration
	cookie      string
	callTimeout time.Duration
	logger      *slog.Logger
	testLog     bool
	level       slog.Leveler
}

// WithTimeout sets the bound of every wait of the cluster's helpers and of
// its cleanup (default DefaultTimeout). A wait that runs out fails the test.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithCookie sets the cluster's cookie (actor.Config.Cookie). By default
// each cluster gets a random one of its own, so that clusters of one test
// binary never talk to each other.
func WithCookie(cookie string) Option {
	return func(c *config) { c.cookie = cookie }
}

// WithCallTimeout sets the nodes' actor.Config.CallTimeout: the bound of
// calls and requests whose context has no deadline (default: actor's, 5 s).
func WithCallTimeout(d time.Duration) Option {
	return func(c *config) { c.callTimeout = d }
}

// WithLogger sends the nodes' and the cluster's logs to l, each record
// with a "node" attribute. By default they are discarded.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger, c.testLog = l, false }
}

// WithTestLog sends the nodes' and the cluster's logs of level and above to
// the test's log (t.Log), shown when the test fails or with go test -v.
func WithTestLog(level slog.Leveler) Option {
	return func(c *config) { c.logger, c.testLog, c.level = nil, true, level }
}
