// Package stats holds a node's counters and facts: what the applications
// of the umbrella count (requests served, tasks checked, events written
// to WebSocket clients) and say ("leader": "yes"), read by the node's
// status process for the demo's summary. One Set per node, passed to
// each application's constructor: no global state.
package stats

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Set is a node's counters and facts. Safe for concurrent use; the zero
// value is not usable, call New.
type Set struct {
	mu       sync.Mutex
	counters map[string]*atomic.Int64
	facts    map[string]string
}

// New returns an empty set.
func New() *Set {
	return &Set{counters: map[string]*atomic.Int64{}, facts: map[string]string{}}
}

// Counter returns the counter called name, creating it at zero.
func (s *Set) Counter(name string) *atomic.Int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[name]
	if !ok {
		c = new(atomic.Int64)
		s.counters[name] = c
	}
	return c
}

// Add adds d to the counter called name.
func (s *Set) Add(name string, d int64) { s.Counter(name).Add(d) }

// SetFact records a fact (an empty value removes it).
func (s *Set) SetFact(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == "" {
		delete(s.facts, name)
		return
	}
	s.facts[name] = value
}

// Snapshot returns the counters (negative ones as zero) and the facts now.
func (s *Set) Snapshot() (map[string]uint64, map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make(map[string]uint64, len(s.counters))
	for k, c := range s.counters {
		cs[k] = uint64(max(c.Load(), 0))
	}
	return cs, maps.Clone(s.facts)
}
