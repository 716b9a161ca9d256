package patterns

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// Tasks submits tasks to task queues (tasks.Start) from plain
// goroutines; Worker is the other side. It holds no goroutine or process
// of its own and is safe for concurrent use.
type Tasks struct {
	n *actor.Node
	// MaxPayload bounds a task's payload for a queue on another node
	// (checked before sending); default exchange.DefaultMaxPayload.
	MaxPayload int
	pids       sync.Map // exchange.Address -> *actor.PID, as last resolved
}

// NewTasks returns a producer that submits from node n.
func NewTasks(n *actor.Node) *Tasks { return &Tasks{n: n} }

// SubmitOption sets a field of one submission.
type SubmitOption func(*submitOptions)

type submitOptions struct {
	priority int
	key      string
}

func parseSubmitOptions(opts []SubmitOption) submitOptions {
	if len(opts) == 0 { // the options escape: no allocation without them
		return submitOptions{}
	}
	o := new(submitOptions)
	for _, opt := range opts {
		opt(o)
	}
	return *o
}

// WithPriority gives the task a priority, from 0 (the default) to the
// queue's MaxPriority: higher priorities are delivered first, FIFO within
// a priority.
func WithPriority(p int) SubmitOption { return func(o *submitOptions) { o.priority = p } }

// WithKey gives the task an idempotency key (JetStream's Msg-Id): the
// queue takes one task per key within its DedupWindow and confirms the
// others without queueing them, so a producer whose confirm was lost
// (a timeout, a node down) submits again with the same key, safely. In a
// durable queue the window survives the queue's restart.
func WithKey(key string) SubmitOption { return func(o *submitOptions) { o.key = key } }

// Submit hands msg to the task queue ex and returns once the queue holds
// it: a nil error is the queue's acknowledgement (as a RabbitMQ publisher
// confirm), so a task is never lost silently on its way in. The deadline
// is ctx's, or the node's CallTimeout. Errors: tasks.ErrQueueFull,
// tasks.ErrBadPriority, exchange.ErrExchangeNotFound,
// tasks.ErrNotTaskQueue, exchange.ErrTooLarge, actor.ErrNotSerializable (a payload for another node that is not a
// protobuf message), actor.ErrTimeout, actor.ErrNodeDown. A timeout does
// not say that the task was refused: the queue may have taken it.
func (t *Tasks) Submit(ctx context.Context, ex exchange.Address, msg any, opts ...SubmitOption) error {
	o := parseSubmitOptions(opts)
	if ex.Name == "" {
		return fmt.Errorf("%w: no exchange name", exchange.ErrExchangeNotFound)
	}
	pid, cached, err := t.resolve(ctx, ex)
	if err != nil {
		return err
	}
	sub := tasks.Submission{Msg: msg, Priority: o.priority, Key: o.key}
	err = tasks.SubmitTo(ctx, t.n, ex, pid, sub, t.MaxPayload)
	switch {
	case cached && errors.Is(err, exchange.ErrExchangeNotFound):
		// Not delivered: the queue may have moved since it was resolved.
		t.pids.Delete(ex)
		if pid, _, err = t.resolve(ctx, ex); err != nil {
			return err
		}
		return tasks.SubmitTo(ctx, t.n, ex, pid, sub, t.MaxPayload)
	case errors.Is(err, actor.ErrNodeDown):
		t.pids.Delete(ex) // resolve anew next time
	}
	return err
}

// SubmitAsync sends msg to the task queue ex and returns at once with
// its confirm (as JetStream's PublishAsync): keep many submissions in
// flight and Wait for each Confirm later. A nil error from Wait is the
// queue's confirm, as Submit's; an error from SubmitAsync means nothing
// was sent. Errors from Wait that say the queue is not where it was
// (exchange.ErrExchangeNotFound, actor.ErrNodeDown, tasks.ErrNotLeader) make the next
// submission resolve the queue again; resubmit with the same WithKey to
// retry without risking a duplicate.
func (t *Tasks) SubmitAsync(ctx context.Context, ex exchange.Address, msg any, opts ...SubmitOption) (*Confirm, error) {
	o := parseSubmitOptions(opts)
	if ex.Name == "" {
		return nil, fmt.Errorf("%w: no exchange name", exchange.ErrExchangeNotFound)
	}
	pid, _, err := t.resolve(ctx, ex)
	if err != nil {
		return nil, err
	}
	c, err := tasks.SubmitAsync(ctx, t.n, ex, pid, tasks.Submission{Msg: msg, Priority: o.priority, Key: o.key}, t.MaxPayload)
	if err != nil {
		t.forget(ex, err)
		return nil, err
	}
	return &Confirm{c: c, t: t, ex: ex}, nil
}

// Confirm is the pending confirm of one SubmitAsync.
type Confirm struct {
	c  *tasks.Confirm
	t  *Tasks
	ex exchange.Address
}

// Wait returns the queue's confirm once it comes: nil when the queue
// holds the task (a durable one: stored it), or the error Submit would
// have returned; see tasks.Confirm.
func (c *Confirm) Wait() error {
	err := c.c.Wait()
	c.t.forget(c.ex, err)
	return err
}

// forget drops the queue's cached address after an error saying that it
// may have moved.
func (t *Tasks) forget(ex exchange.Address, err error) {
	if errors.Is(err, exchange.ErrExchangeNotFound) || errors.Is(err, actor.ErrNodeDown) || errors.Is(err, tasks.ErrNotLeader) {
		t.pids.Delete(ex) // ErrNotLeader: a replicated queue that handed its lead to another instance (a takeover)
	}
}

// resolve returns the queue's PID (a NamedPID, valid across restarts of
// the queue on its node) and whether it comes from an earlier resolution.
func (t *Tasks) resolve(ctx context.Context, ex exchange.Address) (*actor.PID, bool, error) {
	if v, ok := t.pids.Load(ex); ok {
		return v.(*actor.PID), true, nil
	}
	pid, err := ex.Resolve(ctx, t.n)
	if err != nil {
		return nil, false, err
	}
	t.pids.Store(ex, pid)
	return pid, false, nil
}
