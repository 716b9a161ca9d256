package tasks

import "errors"

// Errors of task queues, for producers and workers; errors.Is works on them
// across nodes too (see actor.RemoteError).
var (
	// ErrQueueFull: the queue holds MaxQueue ready tasks and refuses more.
	ErrQueueFull = errors.New("tasks: task queue full")
	// ErrBadPriority: a priority outside 0..MaxPriority.
	ErrBadPriority = errors.New("tasks: bad task priority")
	// ErrNotTaskQueue: the exchange is not a task queue.
	ErrNotTaskQueue = errors.New("tasks: not a task queue")
	// ErrUnknownTag: no task was delivered to this worker under the tag
	// (or so long ago that the worker no longer remembers it).
	ErrUnknownTag = errors.New("tasks: unknown delivery tag")
	// ErrAlreadyAcked: the worker already acked, nacked or rejected the
	// tag.
	ErrAlreadyAcked = errors.New("tasks: delivery tag already acknowledged")
	// ErrTagRevoked: the queue took the task back (ack timeout, or the
	// queue restarted) and delivers it again, under another tag: this
	// delivery's ack no longer counts.
	ErrTagRevoked = errors.New("tasks: delivery tag revoked")
	// ErrBadPrefetch: a prefetch limit outside 1..MaxPrefetch.
	ErrBadPrefetch = errors.New("tasks: bad prefetch limit")
	// ErrStore: a durable queue could not read or write its log; a
	// submission that gets it was not confirmed.
	ErrStore = errors.New("tasks: durable store failed")
	// ErrBadKey: an idempotency key longer than MaxKeyLen.
	ErrBadKey = errors.New("tasks: bad idempotency key")
)
