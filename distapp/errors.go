package distapp

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of this package; test them with errors.Is.
var (
	// ErrInvalidSpec: a Spec failed Validate.
	ErrInvalidSpec = errors.New("distapp: invalid spec")
	// ErrNoCluster: the node has not joined a cluster, or its provider
	// offers no locks.
	ErrNoCluster = errors.New("distapp: node not in a cluster with locks")
	// ErrNotListed: this node is not in the application's Nodes.
	ErrNotListed = errors.New("distapp: node not listed for the application")
	// ErrStarted: the application was started on this controller already.
	ErrStarted = errors.New("distapp: application already started")
	// ErrUnknown: the application was not started on this controller (or
	// on the node asked).
	ErrUnknown = errors.New("distapp: unknown application")
	// ErrSyncTimeout is in the *SyncError of a start whose mandatory sync
	// nodes did not come within SyncTimeout.
	ErrSyncTimeout = errors.New("distapp: mandatory sync nodes missing")
	// ErrNotRunning: the application runs on no node (Takeover).
	ErrNotRunning = errors.New("distapp: application not running")
	// ErrTakeover: a takeover failed; the error says at which step.
	ErrTakeover = errors.New("distapp: takeover failed")
	// ErrStopped: this node's manager of the application stopped.
	ErrStopped = errors.New("distapp: stopped")
)

// SyncError is the error of a start whose mandatory sync nodes had not
// started the application's controller within the sync timeout.
type SyncError struct {
	App     string
	Missing []string // the mandatory nodes missing
	Timeout time.Duration
}

func (e *SyncError) Error() string {
	return fmt.Sprintf("distapp: %q: mandatory sync nodes missing after %v: %s", e.App, e.Timeout, strings.Join(e.Missing, ", "))
}

// Is makes errors.Is(err, ErrSyncTimeout) hold.
func (e *SyncError) Is(target error) bool { return target == ErrSyncTimeout }
