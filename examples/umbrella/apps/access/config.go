package access

import "github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"

// Config is the access application's configuration; the zero value of a
// field means its default.
type Config struct {
	// Listen is the HTTP server's address; default "127.0.0.1:0" (a free
	// port, reported as the fact "access.http").
	Listen string
	// Proxy is the local pub-sub proxy's name; default "profiles.proxy".
	Proxy string
	// Upstream is the exchange it proxies; default "profiles".
	Upstream string
	// Buffer bounds the events waiting for one slow client; more are
	// dropped and counted. Default 256.
	Buffer int
	// Subscriptions is the subscriptions service the node records
	// subscriptions with.
	Subscriptions subscriptions.Config
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.Proxy == "" {
		c.Proxy = "profiles.proxy"
	}
	if c.Upstream == "" {
		c.Upstream = "profiles"
	}
	if c.Buffer == 0 {
		c.Buffer = 256
	}
	c.Subscriptions = c.Subscriptions.WithDefaults()
	return c
}
