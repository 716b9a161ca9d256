package tasks

import "github.com/switchboard-go/switchboard/internal/taskspb"

// maxDeliveryBytes bounds the payloads of one message of deliveries to
// another node; a larger batch goes as several messages.
const maxDeliveryBytes = 1 << 20

// deliver sends w's batch: as a Batch of unencoded payloads on this
// node, as TaskDeliveries to another. A payload that cannot be encoded for
// another node is dead-lettered (DEAD_CAUSE_BAD_PAYLOAD).
func (s *tasksServer) deliver(w *taskWorker) {
	batch := w.batch
	if w.pid.Address == s.p.Node().Address() {
		var b *Batch
		if len(batch) == 1 { // the batch and its task in one allocation
			one := &struct {
				b Batch
				t [1]Task
			}{}
			b = &one.b
			b.Tasks = one.t[:]
		} else {
			b = &Batch{Tasks: make([]Task, len(batch))}
		}
		b.Queue = s.spec.Name
		for i, t := range batch {
			b.Tasks[i] = Task{Queue: s.spec.Name, Tag: t.tag, ID: t.id, Priority: int(t.prio), Deliveries: int(t.deliveries), Msg: t.msg, Key: t.key}
		}
		s.sendWorker(w, b)
	} else {
		var out *taskspb.TaskDeliveries
		size := 0
		for _, t := range batch {
			if t.enc == nil {
				a, err := encode(t.msg)
				if err != nil {
					s.q.drop(w, t.tag, DeadCause_DEAD_CAUSE_BAD_PAYLOAD, "not deliverable to "+w.pid.Address+": "+err.Error())
					s.kick()
					continue
				}
				t.enc = a
			}
			if out == nil {
				out = &taskspb.TaskDeliveries{Queue: s.spec.Name, Tasks: make([]*taskspb.TaskDelivery, 0, len(batch))}
			}
			out.Tasks = append(out.Tasks, &taskspb.TaskDelivery{Tag: t.tag, Id: t.id, Priority: uint32(t.prio), Deliveries: t.deliveries, Payload: t.enc, Key: t.key})
			if size += len(t.enc.GetValue()); size >= maxDeliveryBytes {
				s.send(w.pid, out)
				out, size = nil, 0
			}
		}
		if out != nil {
			s.send(w.pid, out)
		}
	}
	clear(batch)
	w.batch = batch[:0]
}
