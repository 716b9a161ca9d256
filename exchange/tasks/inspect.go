package tasks

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// Stats are a task queue's gauges and counters, from Inspect.
type Stats struct {
	Queue    string
	Ready    int // tasks waiting for a worker (the queue depth)
	InFlight int // tasks delivered and not yet acked, nacked or rejected
	Workers  int

	Submitted    uint64 // tasks accepted
	Refused      uint64 // submissions refused because the queue was full
	Delivered    uint64 // deliveries, first ones and again
	Redelivered  uint64 // deliveries of a task delivered before
	Acked        uint64 // tasks completed
	Nacked       uint64 // tasks a worker gave back
	Expired      uint64 // tasks taken back at their ack timeout
	Rejected     uint64 // tasks a worker rejected (dead-lettered at once)
	RefusedAcks  uint64 // acks, nacks and rejects of tags no longer in flight at their worker
	DeadLettered uint64 // tasks that died: delivery limit, rejected, bad payload
	// DeadLetterPending are dead tasks the dead-letter target has not
	// accepted yet (it is missing, full, or not answering): kept and
	// offered again every sweep.
	DeadLetterPending int
	Discarded         uint64 // dead tasks dropped because the queue has no dead-letter target

	Duplicates uint64 // submissions confirmed without queueing: their key was in the window
	Stored     uint64 // durable: tasks written to the log
	Syncs      uint64 // durable: fsyncs of the log (each confirms every task written before it)
	Restored   uint64 // durable: tasks reloaded from the log at the queue's start
}

// Inspect returns the gauges and counters of the task queue at a.
func Inspect(ctx context.Context, n *actor.Node, a exchange.Address) (Stats, error) {
	pid, err := a.Resolve(ctx, n)
	if err != nil {
		return Stats{}, err
	}
	v, err := n.Call(ctx, pid, &taskspb.TaskInspect{})
	if err != nil {
		return Stats{}, clarifyTasks(a, err)
	}
	s, ok := v.(*taskspb.TaskQueueStats)
	if !ok {
		return Stats{}, fmt.Errorf("%w: %q answered %T", ErrNotTaskQueue, a.Name, v)
	}
	return Stats{
		Queue: s.GetQueue(), Ready: int(s.GetReady()), InFlight: int(s.GetInFlight()), Workers: int(s.GetWorkers()),
		Submitted: s.GetSubmitted(), Refused: s.GetRefused(), Delivered: s.GetDelivered(), Redelivered: s.GetRedelivered(),
		Acked: s.GetAcked(), Nacked: s.GetNacked(), Expired: s.GetExpired(), Rejected: s.GetRejected(),
		RefusedAcks: s.GetRefusedAcks(), DeadLettered: s.GetDeadLettered(),
		DeadLetterPending: int(s.GetDeadLetterPending()), Discarded: s.GetDiscarded(),
		Duplicates: s.GetDuplicates(), Stored: s.GetStored(), Syncs: s.GetSyncs(), Restored: s.GetRestored(),
	}, nil
}

func (s *Stats) proto() *taskspb.TaskQueueStats {
	return &taskspb.TaskQueueStats{
		Queue: s.Queue, Ready: uint64(s.Ready), InFlight: uint64(s.InFlight), Workers: uint32(s.Workers),
		Submitted: s.Submitted, Refused: s.Refused, Delivered: s.Delivered, Redelivered: s.Redelivered,
		Acked: s.Acked, Nacked: s.Nacked, Expired: s.Expired, Rejected: s.Rejected,
		RefusedAcks: s.RefusedAcks, DeadLettered: s.DeadLettered,
		DeadLetterPending: uint64(s.DeadLetterPending), Discarded: s.Discarded,
		Duplicates: s.Duplicates, Stored: s.Stored, Syncs: s.Syncs, Restored: s.Restored,
	}
}
