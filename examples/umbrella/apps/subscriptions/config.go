package subscriptions

import (
	"time"

	"github.com/switchboard-go/switchboard/release"
)

// The configuration keys of the subscriptions applications.
var (
	ExchangeKey = release.NewKey("exchange", "subscriptions", "the exchange of the subscriptions service (LeaderOnly)")
	SweepKey    = release.NewKey("sweep", time.Second, "how often the leader sweeps its lists")
)

// Keys are the keys the subscriptions applications declare.
var Keys = []release.AnyKey{ExchangeKey, SweepKey}

// Config is the subscriptions applications' configuration; the zero
// value of a field means its key's default.
type Config struct {
	Exchange string        // key exchange
	Sweep    time.Duration // key sweep
}

// ConfigFrom reads the configuration from an application's environment.
func ConfigFrom(env release.Env) Config {
	return Config{Exchange: ExchangeKey.Get(env), Sweep: SweepKey.Get(env)}
}

// WithDefaults returns c with every unset field at its key's default.
func (c Config) WithDefaults() Config {
	def := ConfigFrom(release.Env{})
	if c.Exchange == "" {
		c.Exchange = def.Exchange
	}
	if c.Sweep == 0 {
		c.Sweep = def.Sweep
	}
	return c
}
