package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/soak/history"
)

func TestTyped(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("call: %w", actor.ErrTimeout), "timeout"},
		{fmt.Errorf("x: %w", actor.ErrNodeDown), "node-down"},
		{exchange.ErrNoController, "no-controller"},
		{context.DeadlineExceeded, "deadline"},
		{&actor.ExitError{}, "controller-exit"},
		{&actor.RemoteError{Text: subscriptions.ErrNotLeader.Error()}, "not-leader"}, // from the controller's node
		{fmt.Errorf("%w: lookup: 429", cluster.ErrUnavailable), "provider-unavailable"},
		{errors.New("something else"), history.ErrUntyped},
	} {
		if got := typed(c.err); got != c.want {
			t.Errorf("typed(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// A marker file without its effect record counts as the effect; one with
// its record is not counted twice.
func TestMarkerEffects(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"jobs-1", "jobs-2"} {
		if err := os.WriteFile(filepath.Join(dir, k), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	recs := []history.Record{{Type: history.TypeEffect, Kind: history.OpTask, Key: "jobs-1"}}
	got, err := markerEffects(dir, recs)
	if err != nil || len(got) != 1 || got[0].Key != "jobs-2" || got[0].Type != history.TypeEffect {
		t.Fatalf("markerEffects = %+v, %v; want one effect of jobs-2", got, err)
	}
}

// The documents' journals give one effect per document, the settlements
// after the first counted.
func TestJournalEffects(t *testing.T) {
	dir := t.TempDir()
	lines := map[string]string{
		"work-1.jsonl": `{"id":"doc-1","outcome":"checked","node":"work-1@localhost","time":"2026-12-01T12:00:00Z"}` + "\n" +
			`{"id":"doc-2","outcome":"dead","cause":"delivery_limit","node":"work-1@localhost","time":"2026-12-01T12:00:01Z"}` + "\n",
		"work-2.jsonl": `{"id":"doc-1","outcome":"checked","node":"work-2@localhost","time":"2026-12-01T12:00:02Z"}` + "\n",
	}
	for f, l := range lines {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(l), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, again, err := journalEffects(dir)
	if err != nil || len(got) != 2 || again != 1 {
		t.Fatalf("journalEffects = %+v, %d again, %v; want 2 effects, 1 again", got, again, err)
	}
	for _, r := range got {
		if r.Type != history.TypeEffect || r.Kind != history.OpTask || (r.Key != "doc-1" && r.Key != "doc-2") || r.Invoke.IsZero() {
			t.Errorf("effect %+v", r)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.jsonl"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := journalEffects(dir); err == nil {
		t.Error("a bad journal line: no error")
	}
}
