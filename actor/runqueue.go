package actor

// runQueue is the dispatcher's queue of mailbox runs waiting for a worker:
// a ring, first in first out, each run stamped with the watchdog's tick
// when it was queued, so that the watchdog sees how long the oldest has
// waited. It is not safe for concurrent use (the dispatcher's lock guards
// it) and starts no goroutine.
type runQueue struct {
	ring []queuedRun
	head int // index of the oldest run
	n    int // runs queued
}

type queuedRun struct {
	fn   func()
	tick uint64
}

// keptRing is the capacity an empty queue keeps; a larger ring, grown by a
// burst, is let go once the burst has drained.
const keptRing = 1024

func (q *runQueue) len() int { return q.n }

func (q *runQueue) push(fn func(), tick uint64) {
	if q.n == len(q.ring) {
		q.grow()
	}
	q.ring[(q.head+q.n)%len(q.ring)] = queuedRun{fn: fn, tick: tick}
	q.n++
}

// pop takes the oldest run, or returns nil if none waits.
func (q *runQueue) pop() func() {
	if q.n == 0 {
		return nil
	}
	r := &q.ring[q.head]
	fn := r.fn
	*r = queuedRun{} // the ring must not keep the mailbox alive
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	if q.n == 0 {
		q.head = 0
		if len(q.ring) > keptRing {
			q.ring = nil
		}
	}
	return fn
}

// waited is how many ticks the oldest run has waited at tick now (0 if
// none waits).
func (q *runQueue) waited(now uint64) uint64 {
	if q.n == 0 {
		return 0
	}
	return now - q.ring[q.head].tick
}

func (q *runQueue) grow() {
	ring := make([]queuedRun, max(2*len(q.ring), 64))
	for i := range q.n {
		ring[i] = q.ring[(q.head+i)%len(q.ring)]
	}
	q.ring, q.head = ring, 0
}
