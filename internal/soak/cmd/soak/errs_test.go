package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-go/switchboard/actor"
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
