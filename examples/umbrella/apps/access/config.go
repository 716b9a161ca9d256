package access

import (
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/release"
)

// The configuration keys of the access application.
var (
	ListenKey        = release.NewKey("listen", "127.0.0.1:0", "the HTTP server's address (port 0: a free one, reported as the fact access.http)")
	ProxyKey         = release.NewKey("proxy", "profiles.proxy", "the local pub-sub proxy of the profile events (a static exchange of the release)")
	BufferKey        = release.NewKey("buffer", 256, "events waiting for one slow client; more are dropped and counted")
	SubscriptionsKey = release.NewKey("subscriptions", "subscriptions", "the exchange of the subscriptions service")
)

// Keys are the keys the access application declares.
var Keys = []release.AnyKey{ListenKey, ProxyKey, BufferKey, SubscriptionsKey}

// Config is the access application's configuration.
type Config struct {
	Listen        string               // key listen
	Proxy         string               // key proxy
	Buffer        int                  // key buffer
	Subscriptions subscriptions.Config // its Exchange: key subscriptions
}

// ConfigFrom reads the configuration from the application's environment.
func ConfigFrom(env release.Env) Config {
	return Config{Listen: ListenKey.Get(env), Proxy: ProxyKey.Get(env), Buffer: BufferKey.Get(env),
		Subscriptions: subscriptions.Config{Exchange: SubscriptionsKey.Get(env)}.WithDefaults()}
}
