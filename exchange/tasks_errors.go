package exchange

import "errors"

// Errors of task queues, for producers and workers; errors.Is works on them
// across nodes too (see actor.RemoteError).
var (
	// ErrQueueFull: the queue holds MaxQueue ready tasks and refuses more.
	ErrQueueFull = errors.New("exchange: task queue full")
	// ErrBadPriority: a priority outside 0..MaxPriority.
	ErrBadPriority = errors.New("exchange: bad task priority")
	// ErrNotTaskQueue: the exchange is not a task queue.
	ErrNotTaskQueue = errors.New("exchange: not a task queue")
	// ErrUnknownTag: no task was delivered to this worker under the tag
	// (or so long ago that the worker no longer remembers it).
	ErrUnknownTag = errors.New("exchange: unknown delivery tag")
	// ErrAlreadyAcked: the worker already acked, nacked or rejected the
	// tag.
	ErrAlreadyAcked = errors.New("exchange: delivery tag already acknowledged")
	// ErrTagRevoked: the queue took the task back (ack timeout, or the
	// queue restarted) and delivers it again, under another tag: this
	// delivery's ack no longer counts.
	ErrTagRevoked = errors.New("exchange: delivery tag revoked")
	// ErrBadPrefetch: a prefetch limit outside 1..MaxPrefetch.
	ErrBadPrefetch = errors.New("exchange: bad prefetch limit")
)
