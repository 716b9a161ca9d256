package tasks

import (
	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// WorkerJoined tells a worker that its queue took it in.
type WorkerJoined struct {
	Queue    string
	QueuePID *actor.PID // the queue process itself
	Prefetch int        // the prefetch limit the queue applies
}

// Revoked tells a worker that the queue took back deliveries it had
// not settled (its ack timeout passed): acks of these tags are refused,
// and the tasks go to a worker again.
type Revoked struct {
	Queue string
	Tags  []uint64
}

// AcksRefused tells a worker that the queue refused some of its acks,
// nacks or rejects because it had taken those tasks back before they
// arrived: nothing changed for them.
type AcksRefused struct {
	Queue  string
	Tags   []uint64
	Reason string
}

// Event returns the public form of a task queue's event to a worker
// (*WorkerJoined, *Revoked, *AcksRefused), or false if msg is not one.
func Event(msg any) (any, bool) {
	switch e := msg.(type) {
	case *taskspb.TaskWorkerJoined:
		return &WorkerJoined{Queue: e.GetQueue(), QueuePID: e.GetQueuePid(), Prefetch: int(e.GetPrefetchLimit())}, true
	case *taskspb.TaskRevoked:
		return &Revoked{Queue: e.GetQueue(), Tags: e.GetTags()}, true
	case *taskspb.TaskAckRefused:
		return &AcksRefused{Queue: e.GetQueue(), Tags: e.GetTags(), Reason: e.GetReason()}, true
	}
	return nil, false
}
