package tasks

import (
	"fmt"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/taskspb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Task is one delivery of a task to a worker.
type Task struct {
	Queue      string // the queue's name
	Tag        uint64 // this delivery's tag: an ack, nack or reject names it
	ID         uint64 // the task's id in its queue, the same on every delivery
	Priority   int
	Deliveries int // how many times the task was delivered, this one included
	Msg        any // the payload; a protobuf message when it crossed nodes
	// Key is the producer's idempotency key (Submission.Key), if it gave
	// one: the key for a worker's idempotent effects, the same on every
	// delivery, across restarts, and for a producer's retry.
	Key string
}

// Redelivered reports whether the task was delivered before (AMQP's
// redelivered flag): a worker that may have done part of it already
// should make the work idempotent, keyed by ID.
func (t *Task) Redelivered() bool { return t.Deliveries > 1 }

// Batch carries deliveries to a worker on the queue's own node, its
// payloads unencoded; between nodes they travel encoded.
type Batch struct {
	Queue string
	Tasks []Task
}

// Undecodable is a delivery whose payload the worker's node cannot decode
// (a type unknown there): the worker rejects it, and the queue
// dead-letters it with DEAD_CAUSE_BAD_PAYLOAD.
type Undecodable struct {
	Tag uint64
	Err error
}

// AsTasks returns the deliveries in msg, as a worker receives them in
// HandleInfo: a *Batch from its own node or their encoded form from
// another, decoded. ok is false for other messages. Deliveries whose
// payload cannot be decoded (a type unknown on the worker's node) are
// returned in bad, to be rejected with DEAD_CAUSE_BAD_PAYLOAD.
func AsTasks(msg any) (queue string, tasks []Task, bad []Undecodable, ok bool) {
	switch m := msg.(type) {
	case *Batch:
		return m.Queue, m.Tasks, nil, true
	case *taskspb.TaskDeliveries:
		tasks = make([]Task, 0, len(m.GetTasks()))
		for _, d := range m.GetTasks() {
			var v proto.Message
			var err error
			if d.GetPayload() == nil {
				err = fmt.Errorf("%w: no payload", exchange.ErrBadRequest)
			} else if v, err = d.GetPayload().UnmarshalNew(); err != nil {
				err = fmt.Errorf("%w: %w", exchange.ErrBadRequest, err)
			}
			if err != nil {
				bad = append(bad, Undecodable{Tag: d.GetTag(), Err: err})
				continue
			}
			tasks = append(tasks, Task{Queue: m.GetQueue(), Tag: d.GetTag(), ID: d.GetId(),
				Priority: int(d.GetPriority()), Deliveries: int(d.GetDeliveries()), Msg: v, Key: d.GetKey()})
		}
		return m.GetQueue(), tasks, bad, true
	}
	return "", nil, nil, false
}

// Message returns the dead task's payload, decoded.
func (d *DeadLetter) Message() (proto.Message, error) {
	if d.GetPayload() == nil {
		return nil, fmt.Errorf("%w: the dead task had no protobuf payload", exchange.ErrBadRequest)
	}
	m, err := d.GetPayload().UnmarshalNew()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", exchange.ErrBadRequest, err)
	}
	return m, nil
}

// encode returns msg as an Any, for another node.
func encode(msg any) (*anypb.Any, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: %T is not a protobuf message", exchange.ErrBadRequest, msg)
	}
	a, err := anypb.New(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", exchange.ErrBadRequest, err)
	}
	return a, nil
}
