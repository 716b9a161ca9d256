package users

import "github.com/switchboard-go/switchboard/release"

// The configuration keys of the users applications (both read both).
var (
	ExchangeKey = release.NewKey("exchange", "users", "the request-response exchange of the users service")
	EventsKey   = release.NewKey("events", "profiles", "the pub-sub exchange of profile events")
)

// Keys are the keys the users applications declare.
var Keys = []release.AnyKey{ExchangeKey, EventsKey}

// Config is the users applications' configuration, as their environment
// sets it; the zero value of a field means its key's default.
type Config struct {
	Exchange string // key exchange
	Events   string // key events
}

// ConfigFrom reads the configuration from an application's environment.
func ConfigFrom(env release.Env) Config {
	return Config{Exchange: ExchangeKey.Get(env), Events: EventsKey.Get(env)}
}

// WithDefaults returns c with every unset field at its key's default.
func (c Config) WithDefaults() Config {
	def := ConfigFrom(release.Env{})
	if c.Exchange == "" {
		c.Exchange = def.Exchange
	}
	if c.Events == "" {
		c.Events = def.Events
	}
	return c
}

// EventKey is the routing key of a user's ProfileUpdated events.
func EventKey(user string) string { return "profile." + user }
