package tasks

import (
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/topic"
)

// Spec describes a task queue: an exchange that holds tasks until a
// worker acknowledges them.
type Spec struct {
	// Name identifies the queue, as any exchange's name; required.
	Name string
	// AckTimeout is how long a worker may hold a task without acking or
	// nacking it before the queue takes it back and delivers it again;
	// default DefaultAckTimeout. One sweep every AckTimeout/10 (between
	// 1 ms and 1 s) finds the late ones: no timer per task.
	AckTimeout time.Duration
	// MaxDeliveries bounds the deliveries of one task: a task that comes
	// back (nack, ack timeout, worker exit) after that many is
	// dead-lettered. Default DefaultMaxDeliveries; Unlimited for none.
	MaxDeliveries int
	// DeadLetter is the exchange that receives dead tasks, as *DeadLetter
	// messages with the reason: a task queue, or with DeadLetterKey a
	// pub-sub exchange. Unset: dead tasks are discarded (and counted).
	DeadLetter exchange.Address
	// DeadLetterKey, if set, makes DeadLetter a pub-sub exchange: dead
	// letters are published there with this routing key.
	DeadLetterKey string
	// MaxQueue bounds the ready tasks: a submission to a full queue is
	// refused with ErrQueueFull. Tasks that come back from workers are
	// always taken. Default DefaultMaxQueue; Unlimited for none.
	MaxQueue int
	// MaxPriority is the highest task priority, at most 255; default 9.
	// Higher priorities are delivered first, FIFO within a priority.
	MaxPriority int
	// MaxPayload bounds a task's payload from another node; default
	// exchange.DefaultMaxPayload.
	MaxPayload int
	// Overflow is what a submission to a full queue (MaxQueue) meets:
	// exchange.OverflowReject (the default, OverflowDefault: ErrQueueFull
	// at once),
	// OverflowBlock (it waits for room up to BlockTimeout, then
	// ErrQueueFull) or OverflowDropOldest (the oldest ready task of the
	// lowest priority is dead-lettered with DEAD_CAUSE_OVERFLOW to make
	// room). See overflow.go and docs/tasks.md, Backpressure.
	Overflow exchange.Overflow
	// BlockTimeout bounds a submission's wait under OverflowBlock;
	// default DefaultBlockTimeout.
	BlockTimeout time.Duration
	// Dir, if set, makes the queue durable: every task is written to a log
	// in this directory and synced before its submission is confirmed,
	// acked tasks are marked done there, and a queue started again on the
	// same directory (after a crash, a kill -9, a restart by its
	// supervisor) resumes with every confirmed task not yet acked. One
	// queue per directory. A durable queue stores protobuf payloads only
	// (actor.ErrNotSerializable otherwise). See docs/tasks.md, Durability.
	Dir string
	// Replica, if set, makes the queue durable on a Raft group instead of
	// Dir: every record goes to the group's log and a submission is
	// confirmed once a majority of its members stored it. The queue
	// takes the group's lead when it starts (it waits for it, up to
	// ReplicaLeadTimeout) and stops when it loses it. See docs/tasks.md,
	// Replication.
	Replica *Replica
	// DedupWindow is how long the queue remembers a task's idempotency
	// key (patterns.WithKey): a task submitted again with that key within
	// the window is confirmed and not queued. In a durable queue the window
	// survives restarts. Default DefaultDedupWindow.
	DedupWindow time.Duration
	// MaxKeys bounds the keys remembered; past it the oldest is forgotten
	// early. Default DefaultMaxKeys.
	MaxKeys int
}

// Defaults and limits of task queues.
const (
	DefaultAckTimeout    = time.Minute
	DefaultMaxDeliveries = 20
	DefaultMaxQueue      = 1_000_000
	DefaultMaxPriority   = 9
	DefaultBlockTimeout  = 5 * time.Second // as a call's default deadline
	DefaultDedupWindow   = 2 * time.Minute // as JetStream's duplicate window
	DefaultMaxKeys       = 1_000_000
	// Unlimited, as MaxDeliveries or MaxQueue, removes the bound.
	Unlimited = -1
	// MaxPrefetch is the highest prefetch limit a worker may ask for (as
	// AMQP's 16-bit prefetch-count).
	MaxPrefetch = 65535
)

// Validate reports what is wrong with the spec, wrapping
// exchange.ErrInvalidSpec.
func (s Spec) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("%w: no name", exchange.ErrInvalidSpec)
	case s.AckTimeout < 0:
		return fmt.Errorf("%w: negative AckTimeout", exchange.ErrInvalidSpec)
	case s.MaxDeliveries < Unlimited || s.MaxQueue < Unlimited:
		return fmt.Errorf("%w: MaxDeliveries and MaxQueue are positive, 0 (default) or Unlimited", exchange.ErrInvalidSpec)
	case s.MaxPriority < 0 || s.MaxPriority > 255:
		return fmt.Errorf("%w: MaxPriority %d outside 0..255", exchange.ErrInvalidSpec, s.MaxPriority)
	case s.MaxPayload < 0:
		return fmt.Errorf("%w: negative MaxPayload", exchange.ErrInvalidSpec)
	case s.Dir != "" && s.Replica != nil:
		return fmt.Errorf("%w: Dir and Replica both set", exchange.ErrInvalidSpec)
	case s.DedupWindow < 0 || s.MaxKeys < 0:
		return fmt.Errorf("%w: negative DedupWindow or MaxKeys", exchange.ErrInvalidSpec)
	case s.DeadLetter.Name == s.Name && s.DeadLetter.Node == "":
		return fmt.Errorf("%w: %q dead-letters to itself", exchange.ErrInvalidSpec, s.Name)
	case s.DeadLetterKey != "" && s.DeadLetter.Name == "":
		return fmt.Errorf("%w: DeadLetterKey without DeadLetter", exchange.ErrInvalidSpec)
	case s.BlockTimeout < 0:
		return fmt.Errorf("%w: negative BlockTimeout", exchange.ErrInvalidSpec)
	}
	if err := s.Overflow.Validate(); err != nil {
		return err
	}
	if s.DeadLetterKey != "" {
		if _, err := topic.ParseKey(s.DeadLetterKey); err != nil {
			return fmt.Errorf("%w: DeadLetterKey: %w", exchange.ErrInvalidSpec, err)
		}
	}
	return nil
}

func (s *Spec) defaults() {
	if s.AckTimeout == 0 {
		s.AckTimeout = DefaultAckTimeout
	}
	if s.MaxDeliveries == 0 {
		s.MaxDeliveries = DefaultMaxDeliveries
	}
	if s.MaxQueue == 0 {
		s.MaxQueue = DefaultMaxQueue
	}
	if s.MaxPriority == 0 {
		s.MaxPriority = DefaultMaxPriority
	}
	if s.MaxPayload == 0 {
		s.MaxPayload = exchange.DefaultMaxPayload
	}
	if s.BlockTimeout == 0 {
		s.BlockTimeout = DefaultBlockTimeout
	}
	if s.DedupWindow == 0 {
		s.DedupWindow = DefaultDedupWindow
	}
	if s.MaxKeys == 0 {
		s.MaxKeys = DefaultMaxKeys
	}
}

// sweepEvery is the period of the ack-timeout sweep.
func (s *Spec) sweepEvery() time.Duration {
	return min(max(s.AckTimeout/10, time.Millisecond), time.Second)
}
