package subscriptions

import "time"

// Config is the subscriptions applications' configuration; the zero
// value of a field means its default.
type Config struct {
	// Exchange is the exchange's name; default "subscriptions".
	Exchange string
	// Sweep is how often the leader sweeps its lists; default 1 s.
	Sweep time.Duration
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Exchange == "" {
		c.Exchange = "subscriptions"
	}
	if c.Sweep == 0 {
		c.Sweep = time.Second
	}
	return c
}
