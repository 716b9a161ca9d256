package documents

import "time"

// Config is the documents applications' configuration; the zero value of
// a field means its default.
type Config struct {
	// Queue is the task queue; default "documents".
	Queue string
	// DeadLetter is its dead-letter queue; default "documents.dead".
	DeadLetter string
	// MaxDeliveries is the delivery limit of a document; default 4.
	MaxDeliveries int
	// AckTimeout is how long a checker may hold a document; default 5 s.
	AckTimeout time.Duration
	// Prefetch is each checker's prefetch limit; default 8.
	Prefetch int
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Queue == "" {
		c.Queue = "documents"
	}
	if c.DeadLetter == "" {
		c.DeadLetter = "documents.dead"
	}
	if c.MaxDeliveries == 0 {
		c.MaxDeliveries = 4
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = 5 * time.Second
	}
	if c.Prefetch == 0 {
		c.Prefetch = 8
	}
	return c
}
