package tasks

import (
	"fmt"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
)

// taskQueue is a task queue's state: ready tasks by priority, tasks in
// flight in delivery order, and the workers with their prefetch limits.
// It is pure logic, in the manner of etcd's raft: no I/O, no goroutine, no
// clock. The queue process feeds it events with the time (submit, join,
// ack, expire, …), and carries out what the events leave in its outbox:
// deliveries and revocations per worker (busy), and dead tasks (dead).
type taskQueue struct {
	name          string
	ackTimeout    int64 // ns
	maxDeliveries int   // 0: unlimited
	maxQueue      int   // 0: unlimited

	ready    readyQueue
	inflight map[uint64]*task
	oldest   *task // the in-flight tasks in delivery order, so by deadline
	newest   *task
	workers  []*taskWorker
	byKey    map[workerKey]*taskWorker
	rr       int // where the round-robin looks first
	room     int // free prefetch slots over all workers
	nextTag  uint64
	nextID   uint64
	stats    Stats
	free     []*task
	journal  bool // durable: the ids of tasks done go to done, for the log

	// The outbox, emptied by the queue process after each event.
	done []uint64      // tasks acked or dead since, in a durable queue
	busy []*taskWorker // workers with deliveries or revocations to send
	dead []deadTask
}

// task is one task, ready or in flight.
type task struct {
	id         uint64
	msg        any        // the message, as submitted in this node or once decoded
	enc        *anypb.Any // its encoded form, as received from another node or once encoded
	prio       uint8
	deliveries uint32
	key        string // the producer's idempotency key, or ""
	tag        uint64 // the current delivery's tag, while in flight
	worker     *taskWorker
	last       *taskWorker // the worker it came back from, to be avoided
	deadline   int64
	prev, next *task // the in-flight list
}

// taskWorker is a registered worker.
type taskWorker struct {
	pid         *actor.PID
	key         workerKey
	prefetch    int
	outstanding int
	ref         actor.Ref   // the queue's monitor of it
	h           actor.Local // a worker on the queue's node: its process, for its deliveries
	busy        bool        // in the outbox
	batch       []*task     // deliveries to send
	revoked     []uint64    // tags taken back, to tell it
	refused     []uint64    // its acks refused, to tell it
}

// deadTask is a task that will not be delivered again, for the dead-letter
// target.
type deadTask struct {
	id         uint64
	msg        any
	enc        *anypb.Any
	prio       uint8
	deliveries uint32
	cause      DeadCause
	reason     string
}

const maxFreeTasks = 4096

// newTaskQueue makes the state of a queue with a defaulted spec; tags
// start after firstTag, which the queue process picks at random so that a
// restarted queue never reissues a tag its workers may still hold.
func newTaskQueue(spec *Spec, firstTag uint64) *taskQueue {
	q := &taskQueue{
		name:       spec.Name,
		ackTimeout: int64(spec.AckTimeout),
		inflight:   map[uint64]*task{},
		byKey:      map[workerKey]*taskWorker{},
		nextTag:    firstTag,
	}
	if spec.MaxDeliveries > 0 {
		q.maxDeliveries = spec.MaxDeliveries
	}
	if spec.MaxQueue > 0 {
		q.maxQueue = spec.MaxQueue
	}
	q.ready.init(spec.MaxPriority)
	q.stats.Queue = spec.Name
	return q
}

// submit queues a task; parked counts dead tasks waiting for the
// dead-letter target, which count against MaxQueue too.
func (q *taskQueue) submit(msg any, enc *anypb.Any, prio int, parked int) error {
	t, err := q.take(msg, enc, prio, parked)
	if err != nil {
		return err
	}
	q.ready.pushBack(t)
	return nil
}

// take is submit without queueing the task: a replicated queue holds it
// until its record is committed.
func (q *taskQueue) take(msg any, enc *anypb.Any, prio int, parked int) (*task, error) {
	if prio < 0 || prio >= len(q.ready.levels) {
		return nil, fmt.Errorf("%w: %d outside 0..%d", ErrBadPriority, prio, len(q.ready.levels)-1)
	}
	if q.maxQueue > 0 && q.ready.len()+parked >= q.maxQueue {
		q.stats.Refused++
		return nil, fmt.Errorf("%w: %q holds %d tasks", ErrQueueFull, q.name, q.maxQueue)
	}
	t := q.alloc()
	q.nextID++
	t.id, t.msg, t.enc, t.prio = q.nextID, msg, enc, uint8(prio)
	q.stats.Submitted++
	return t, nil
}

func (q *taskQueue) alloc() *task {
	if n := len(q.free); n > 0 {
		t := q.free[n-1]
		q.free = q.free[:n-1]
		return t
	}
	return &task{}
}

func (q *taskQueue) release(t *task) {
	*t = task{}
	if len(q.free) < maxFreeTasks {
		q.free = append(q.free, t)
	}
}

// join registers a worker, or changes its prefetch limit; it reports
// whether the worker is new.
func (q *taskQueue) join(pid *actor.PID, prefetch int) (*taskWorker, bool) {
	key := pidKey(pid)
	if w, ok := q.byKey[key]; ok {
		q.room -= max(0, w.prefetch-w.outstanding)
		w.prefetch = prefetch
		q.room += max(0, w.prefetch-w.outstanding)
		return w, false
	}
	w := &taskWorker{pid: pid, key: key, prefetch: prefetch}
	q.workers = append(q.workers, w)
	q.byKey[key] = w
	q.room += prefetch
	return w, true
}

// remove unregisters a worker (it left, exited, or its node went away);
// its tasks in flight go back to the front of the queue, oldest first, or
// to the dead letters if they reached the delivery limit.
func (q *taskQueue) remove(w *taskWorker, reason string) {
	if q.byKey[w.key] != w {
		return
	}
	delete(q.byKey, w.key)
	for i, x := range q.workers {
		if x == w {
			q.workers = append(q.workers[:i], q.workers[i+1:]...)
			if q.rr > i {
				q.rr--
			}
			break
		}
	}
	q.room -= max(0, w.prefetch-w.outstanding)
	var back []*task
	for t := q.oldest; t != nil; t = t.next {
		if t.worker == w {
			back = append(back, t)
		}
	}
	for i := len(back) - 1; i >= 0; i-- { // pushFront in reverse: the oldest ends first
		t := back[i]
		q.takeBack(t)
		w.outstanding--
		q.requeue(t, w, reason)
	}
	w.batch, w.revoked, w.refused = nil, nil, nil
}

// takeBack removes t from the tasks in flight.
func (q *taskQueue) takeBack(t *task) {
	delete(q.inflight, t.tag)
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		q.oldest = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		q.newest = t.prev
	}
	t.prev, t.next, t.worker = nil, nil, nil
}

// free gives w's slot of a settled task back.
func (q *taskQueue) free1(w *taskWorker) {
	w.outstanding--
	if w.outstanding < w.prefetch {
		q.room++
	}
}

// requeue puts a task that came back from worker from at the front of its
// priority, or dead-letters it at the delivery limit.
func (q *taskQueue) requeue(t *task, from *taskWorker, reason string) {
	if q.maxDeliveries > 0 && int(t.deliveries) >= q.maxDeliveries {
		q.kill(t, DeadCause_DEAD_CAUSE_DELIVERY_LIMIT, fmt.Sprintf("delivered %d times; last: %s", t.deliveries, reason))
		return
	}
	t.last = from
	q.ready.pushFront(t)
}

// kill dead-letters a task that is neither ready nor in flight.
func (q *taskQueue) kill(t *task, cause DeadCause, reason string) {
	q.dead = append(q.dead, deadTask{id: t.id, msg: t.msg, enc: t.enc, prio: t.prio,
		deliveries: t.deliveries, cause: cause, reason: reason})
	q.stats.DeadLettered++ // a durable queue's log marks it done once its dead letter is accepted (deadLetters)
	q.release(t)
}

// settle takes a task in flight at w off the queue's hands: the tag must
// be in flight at w, or the queue took it back (ErrTagRevoked).
func (q *taskQueue) settle(w *taskWorker, tag uint64) (*task, error) {
	t := q.inflight[tag]
	if t == nil || t.worker != w {
		q.stats.RefusedAcks++
		w.refused = append(w.refused, tag)
		q.markBusy(w)
		return nil, fmt.Errorf("%w: %d", ErrTagRevoked, tag)
	}
	q.takeBack(t)
	q.free1(w)
	return t, nil
}

// markDone records, in a durable queue, that task id is done: its log
// says so at the next commit.
func (q *taskQueue) markDone(id uint64) {
	if q.journal {
		q.done = append(q.done, id)
	}
}

// ack completes a task: it is never delivered again.
func (q *taskQueue) ack(w *taskWorker, tag uint64) error {
	t, err := q.settle(w, tag)
	if err != nil {
		return err
	}
	q.stats.Acked++
	q.markDone(t.id)
	q.release(t)
	return nil
}

// nack returns a task, for another worker if one has room.
func (q *taskQueue) nack(w *taskWorker, tag uint64) error {
	t, err := q.settle(w, tag)
	if err != nil {
		return err
	}
	q.stats.Nacked++
	q.requeue(t, w, "nacked")
	return nil
}

// reject dead-letters a task at once, with the worker's reason.
func (q *taskQueue) reject(w *taskWorker, tag uint64, cause DeadCause, reason string) error {
	t, err := q.settle(w, tag)
	if err != nil {
		return err
	}
	q.stats.Rejected++
	q.kill(t, cause, reason)
	return nil
}

// expire takes back the tasks whose ack deadline passed, telling their
// workers, and queues them again.
func (q *taskQueue) expire(now int64) {
	for t := q.oldest; t != nil && t.deadline <= now; t = q.oldest {
		w := t.worker
		w.revoked = append(w.revoked, t.tag)
		q.markBusy(w)
		q.takeBack(t)
		q.free1(w)
		q.stats.Expired++
		q.requeue(t, w, "ack timeout")
	}
}

// dispatch delivers ready tasks round-robin to the workers with room,
// avoiding the worker a task came back from when another has room.
func (q *taskQueue) dispatch(now int64) {
	for q.room > 0 && q.ready.len() > 0 {
		w := q.pick(q.ready.peek().last)
		if w == nil {
			return // room is only in workers outside the rotation: cannot happen
		}
		q.deliver(q.ready.pop(), w, now)
	}
}

// pick returns the next worker with room in round-robin order, other than
// avoid unless it is the only one.
func (q *taskQueue) pick(avoid *taskWorker) *taskWorker {
	n := len(q.workers)
	fallback := -1
	for i := 0; i < n; i++ {
		j := q.rr + i
		if j >= n {
			j -= n
		}
		w := q.workers[j]
		if w.outstanding >= w.prefetch {
			continue
		}
		if w == avoid {
			fallback = j
			continue
		}
		q.rr = j + 1
		return w
	}
	if fallback < 0 {
		return nil
	}
	q.rr = fallback + 1
	return q.workers[fallback]
}

func (q *taskQueue) deliver(t *task, w *taskWorker, now int64) {
	q.nextTag++
	t.tag, t.worker, t.last = q.nextTag, w, nil
	t.deliveries++
	t.deadline = now + q.ackTimeout
	q.inflight[t.tag] = t
	t.prev = q.newest
	if q.newest != nil {
		q.newest.next = t
	} else {
		q.oldest = t
	}
	q.newest = t
	w.outstanding++
	q.room--
	w.batch = append(w.batch, t)
	q.markBusy(w)
	q.stats.Delivered++
	if t.deliveries > 1 {
		q.stats.Redelivered++
	}
}

func (q *taskQueue) markBusy(w *taskWorker) {
	if !w.busy {
		w.busy = true
		q.busy = append(q.busy, w)
	}
}

// snapshot returns the counters with the gauges filled in.
func (q *taskQueue) snapshot() Stats {
	s := q.stats
	s.Ready, s.InFlight, s.Workers = q.ready.len(), len(q.inflight), len(q.workers)
	return s
}

// drop dead-letters a task in flight at w that cannot be delivered to it.
func (q *taskQueue) drop(w *taskWorker, tag uint64, cause DeadCause, reason string) {
	if t, err := q.settle(w, tag); err == nil {
		q.kill(t, cause, reason)
	}
}
