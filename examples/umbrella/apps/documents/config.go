package documents

import (
	"time"

	"github.com/switchboard-go/switchboard/release"
)

// The configuration keys of the documents applications.
var (
	QueueKey         = release.NewKey("queue", "documents", "the task queue of documents to check")
	DeadLetterKey    = release.NewKey("dead_letter", "documents.dead", "its dead-letter queue")
	MaxDeliveriesKey = release.NewKey("max_deliveries", 4, "deliveries of a document before it is dead-lettered")
	AckTimeoutKey    = release.NewKey("ack_timeout", 5*time.Second, "how long a checker may hold a document")
	PrefetchKey      = release.NewKey("prefetch", 8, "each checker's prefetch limit")
	JournalKey       = release.NewKey("journal", "", "a file each checker appends a JSON line to for every document it settles (Entry), before it settles it: an audit trail; empty: none")
)

// Keys are the keys the documents applications declare.
var Keys = []release.AnyKey{QueueKey, DeadLetterKey, MaxDeliveriesKey, AckTimeoutKey, PrefetchKey, JournalKey}

// Config is the documents applications' configuration; the zero value of
// a field means its key's default.
type Config struct {
	Queue         string        // key queue
	DeadLetter    string        // key dead_letter
	MaxDeliveries int           // key max_deliveries
	AckTimeout    time.Duration // key ack_timeout
	Prefetch      int           // key prefetch
	Journal       string        // key journal
}

// ConfigFrom reads the configuration from an application's environment.
func ConfigFrom(env release.Env) Config {
	return Config{Queue: QueueKey.Get(env), DeadLetter: DeadLetterKey.Get(env), MaxDeliveries: MaxDeliveriesKey.Get(env),
		AckTimeout: AckTimeoutKey.Get(env), Prefetch: PrefetchKey.Get(env), Journal: JournalKey.Get(env)}
}

// WithDefaults returns c with every unset field at its key's default.
func (c Config) WithDefaults() Config {
	def := ConfigFrom(release.Env{})
	if c.Queue == "" {
		c.Queue = def.Queue
	}
	if c.DeadLetter == "" {
		c.DeadLetter = def.DeadLetter
	}
	if c.MaxDeliveries == 0 {
		c.MaxDeliveries = def.MaxDeliveries
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = def.AckTimeout
	}
	if c.Prefetch == 0 {
		c.Prefetch = def.Prefetch
	}
	return c
}
