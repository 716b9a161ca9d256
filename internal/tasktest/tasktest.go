// Package tasktest holds what the acceptance runs of durable task queues
// share (patterns' kill -9 of one node, distapp's failover of a replicated
// queue): the workers' effects, applied once per key, and the tally of the
// files in which the workers record their work.
package tasktest

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Effects is what the workers' work changes, idempotently by key (a table
// with the key as its primary key): the first delivery of a key applies
// it, a later one finds it applied.
type Effects struct {
	mu      sync.Mutex
	applied map[string]bool
}

// NewEffects returns an empty table of effects.
func NewEffects() *Effects { return &Effects{applied: map[string]bool{}} }

// Apply applies key's effect and reports whether this delivery applied it
// (false: a redelivery, which found it applied).
func (e *Effects) Apply(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.applied[key] {
		return false
	}
	e.applied[key] = true
	return true
}

// Line is what a worker writes to its file for each task, before its ack:
// the task's key, its id and whether it applied the effect.
func Line(key string, id uint64, applied bool) string {
	what := "redelivered"
	if applied {
		what = "applied"
	}
	return fmt.Sprintf("%s %d %s\n", key, id, what)
}

// Tally is what the workers' files say.
type Tally struct {
	Processed        int // keys whose effect was applied
	Redelivered      int // deliveries that found their effect applied
	DuplicateEffects int // keys whose effect was applied more than once (must be 0)
	TwoTasks         int // keys queued as two tasks: the key window did not hold (must be 0)
}

// WaitProcessed reads the workers' files until every key of confirmed is
// in them, for at most timeout, and tallies them.
func WaitProcessed(files []string, confirmed map[string]bool, timeout time.Duration) (Tally, error) {
	deadline := time.Now().Add(timeout)
	for {
		byKey, err := read(files)
		if err != nil {
			return Tally{}, err
		}
		missing := 0
		for k := range confirmed {
			if len(byKey[k]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			return tally(byKey), nil
		}
		if time.Now().After(deadline) {
			return Tally{}, fmt.Errorf("%d confirmed tasks never processed", missing)
		}
		time.Sleep(50 * time.Millisecond) // the files have no events to await
	}
}

type line struct{ id, what string }

func read(files []string) (map[string][]line, error) {
	byKey := map[string][]line{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) == 3 {
				byKey[f[0]] = append(byKey[f[0]], line{f[1], f[2]})
			}
		}
	}
	return byKey, nil
}

func tally(byKey map[string][]line) Tally {
	var t Tally
	for _, ls := range byKey {
		applied := 0
		ids := map[string]bool{}
		for _, l := range ls {
			ids[l.id] = true
			if l.what == "applied" {
				applied++
			} else {
				t.Redelivered++
			}
		}
		if applied > 0 {
			t.Processed++
		}
		if applied > 1 {
			t.DuplicateEffects++
		}
		if len(ids) > 1 {
			t.TwoTasks++
		}
	}
	return t
}
