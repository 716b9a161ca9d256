package main

import (
	"context"
	"errors"
	"fmt"
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
