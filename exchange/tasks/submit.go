package tasks

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// localSubmission is a task on its way from a producer to a task queue on the
// same node: its payload travels unencoded. Between nodes it travels as a
// TaskSubmit.
type localSubmission struct {
	Msg      any
	Priority int
}

// Submit hands msg to the task queue at a, from node n, with a
// priority (0..the queue's MaxPriority, higher first), and returns once
// the queue holds it: a nil error is the queue's acknowledgement, so a
// task is never lost silently on its way in. Errors: ErrQueueFull,
// ErrBadPriority, exchange.ErrExchangeNotFound, ErrNotTaskQueue,
// exchange.ErrTooLarge and exchange.ErrBadRequest (a payload that cannot
// cross nodes), actor.ErrTimeout, actor.ErrNodeDown. maxPayload bounds a
// payload for another node (0: exchange.DefaultMaxPayload). Package
// patterns has the producer API (Tasks).
func Submit(ctx context.Context, n *actor.Node, a exchange.Address, msg any, priority, maxPayload int) error {
	if a.Name == "" {
		return fmt.Errorf("%w: no exchange name", exchange.ErrExchangeNotFound)
	}
	pid, err := a.Resolve(ctx, n)
	if err != nil {
		return err
	}
	return SubmitTo(ctx, n, a, pid, msg, priority, maxPayload)
}

// SubmitTo is Submit to the queue a already resolved to pid (by
// a.Resolve), for producers that keep the result. ErrExchangeNotFound
// says that nothing was delivered: no process holds the queue's name
// there, so the producer may resolve again and retry.
func SubmitTo(ctx context.Context, n *actor.Node, a exchange.Address, pid *actor.PID, msg any, priority, maxPayload int) error {
	if priority < 0 || priority > 255 {
		return fmt.Errorf("%w: %d", ErrBadPriority, priority)
	}
	m, err := submission(n, pid, msg, priority, maxPayload)
	if err != nil {
		return err
	}
	_, err = n.Call(ctx, pid, m)
	return clarifyTasks(a, err)
}

// submission is the message that submits msg to the queue at pid: the
// struct itself on the same node, its protobuf form for another.
func submission(n *actor.Node, pid *actor.PID, msg any, priority, maxPayload int) (any, error) {
	if pid.Address == n.Address() {
		return &localSubmission{Msg: msg, Priority: priority}, nil
	}
	a, err := encode(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", actor.ErrNotSerializable, err)
	}
	if maxPayload <= 0 {
		maxPayload = exchange.DefaultMaxPayload
	}
	if len(a.GetValue()) > maxPayload {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", exchange.ErrTooLarge, len(a.GetValue()), maxPayload)
	}
	return &taskspb.TaskSubmit{Payload: a, Priority: uint32(priority)}, nil
}

// clarifyTasks names the errors of a call to the task queue at a: no
// process under its name is ErrExchangeNotFound, a call the exchange did
// not understand ErrNotTaskQueue.
func clarifyTasks(a exchange.Address, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, actor.ErrNoProcess):
		return fmt.Errorf("%w: %q", exchange.ErrExchangeNotFound, a.Name)
	case errors.Is(err, actor.ErrUnhandled):
		return fmt.Errorf("%w: %q", ErrNotTaskQueue, a.Name)
	}
	return err
}
