package actor

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Done and ExitReason let a goroutine a process owns end with it, kill
// included.
func TestProcessDoneAndExitReason(t *testing.T) {
	n := newNode(t, Config{Name: "a@localhost"})
	got := make(chan error, 1)
	pid, err := n.Spawn(context.Background(), &fn{init: func(p *Process) error {
		go func() { <-p.Done(); got <- p.ExitReason() }()
		if p.ExitReason() != nil {
			t.Error("a live process has an exit reason")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	n.Exit(pid, ErrKill)
	select {
	case reason := <-got:
		if !errors.Is(reason, ErrKilled) {
			t.Fatalf("exit reason %v", reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Done was not closed")
	}
}
