package tasks

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// Submission is one task for a task queue. In one node it travels as
// itself, its payload unencoded; between nodes as a TaskSubmit.
type Submission struct {
	Msg      any // the payload: any value in one node, a protobuf message between nodes or for a durable queue
	Priority int // 0..the queue's MaxPriority, higher first
	// Key, if set, is the task's idempotency key (at most MaxKeyLen
	// bytes): a task submitted again with it within the queue's
	// DedupWindow is confirmed and not queued again, so a producer may
	// retry a submission whose confirm it did not get.
	Key string
}

// MaxKeyLen bounds an idempotency key.
const MaxKeyLen = 1024

// Submit hands msg to the task queue at a, from node n, with a
// priority (0..the queue's MaxPriority, higher first), and returns once
// the queue holds it (a durable queue: once the task is synced to its
// log): a nil error is the queue's confirm, so a task is never lost
// silently on its way in. Errors: ErrQueueFull, ErrBadPriority, ErrBadKey,
// ErrStore, exchange.ErrExchangeNotFound, ErrNotTaskQueue,
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
	return SubmitTo(ctx, n, a, pid, Submission{Msg: msg, Priority: priority}, maxPayload)
}

// SubmitTo is Submit of sub to the queue a already resolved to pid (by
// a.Resolve), for producers that keep the result. ErrExchangeNotFound
// says that nothing was delivered: no process holds the queue's name
// there, so the producer may resolve again and retry.
func SubmitTo(ctx context.Context, n *actor.Node, a exchange.Address, pid *actor.PID, sub Submission, maxPayload int) error {
	m, err := submission(n, pid, sub, maxPayload)
	if err != nil {
		return err
	}
	_, err = n.Call(ctx, pid, m)
	return clarifyTasks(a, err)
}

// Confirm is the confirm of a task submitted with SubmitAsync, to be
// waited for once (JetStream's PubAckFuture).
type Confirm struct {
	ctx  context.Context
	a    exchange.Address
	pend actor.Pending
	err  error
	done bool
}

// Wait returns the queue's confirm: nil once the queue holds the task
// (a durable queue: synced it), or the error Submit would have returned.
// It waits until the submission's deadline (its ctx's, or the node's
// CallTimeout), and may be called again for the same result. A Confirm
// belongs to one goroutine at a time.
func (c *Confirm) Wait() error {
	if !c.done {
		_, err := c.pend.Wait(c.ctx)
		c.pend.Release()
		c.err, c.done = clarifyTasks(c.a, err), true
	}
	return c.err
}

// SubmitAsync sends sub to the queue a, resolved to pid, and returns at
// once with its Confirm: a producer keeps many submissions in flight and
// waits for their confirms later, in any order. An error here means the
// task was not sent. Wait for every Confirm: each holds a slot in the
// node's table of calls until then (or its deadline, with a ctx without
// one).
func SubmitAsync(ctx context.Context, n *actor.Node, a exchange.Address, pid *actor.PID, sub Submission, maxPayload int) (*Confirm, error) {
	m, err := submission(n, pid, sub, maxPayload)
	if err != nil {
		return nil, err
	}
	c := &Confirm{ctx: ctx, a: a, pend: n.NewPending(ctx, pid.Address, false)}
	if err := n.Forward(pid, m, c.pend.ReplyTo()); err != nil {
		c.pend.Release()
		return nil, clarifyTasks(a, err)
	}
	return c, nil
}

// submission is the message that submits sub to the queue at pid: the
// struct itself on the same node, its protobuf form for another.
func submission(n *actor.Node, pid *actor.PID, sub Submission, maxPayload int) (any, error) {
	if sub.Priority < 0 || sub.Priority > 255 {
		return nil, fmt.Errorf("%w: %d", ErrBadPriority, sub.Priority)
	}
	if len(sub.Key) > MaxKeyLen {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadKey, len(sub.Key), MaxKeyLen)
	}
	if pid.Address == n.Address() {
		return &sub, nil
	}
	a, err := encode(sub.Msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", actor.ErrNotSerializable, err)
	}
	if maxPayload <= 0 {
		maxPayload = exchange.DefaultMaxPayload
	}
	if len(a.GetValue()) > maxPayload {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", exchange.ErrTooLarge, len(a.GetValue()), maxPayload)
	}
	return &taskspb.TaskSubmit{Payload: a, Priority: uint32(sub.Priority), Key: sub.Key}, nil
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
