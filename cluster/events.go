package cluster

import (
	"maps"
	"slices"
	"sync"

	"github.com/switchboard-go/switchboard/actor"
)

// eventQueue is an unbounded FIFO of events between the provider's sink
// and the goroutine that delivers them, so a slow subscriber never blocks
// the provider.
type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []Event
	closed bool

	subs   map[uint64]func(uint64, Event)
	nextID uint64
}

func (q *eventQueue) init() {
	q.cond = sync.NewCond(&q.mu)
	q.subs = map[uint64]func(uint64, Event){}
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	if !q.closed {
		q.q = append(q.q, ev)
		q.cond.Signal()
	}
	q.mu.Unlock()
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// next waits for an event and returns it with the subscribers to give it
// to; ok is false once the queue is closed.
func (q *eventQueue) next() (ev Event, subs map[uint64]func(uint64, Event), ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.q) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return Event{}, nil, false
	}
	ev = q.q[0]
	q.q[0] = Event{}
	q.q = q.q[1:]
	return ev, maps.Clone(q.subs), true
}

func (c *Cluster) deliver() {
	defer c.wg.Done()
	for {
		ev, subs, ok := c.events.next()
		if !ok {
			return
		}
		for _, id := range slices.Sorted(maps.Keys(subs)) {
			subs[id](id, ev)
		}
	}
}

// OnEvent calls fn with every membership event from now on, one at a time
// in order, on the cluster's own goroutine (fn must not block for long),
// until the returned cancel is called or the cluster is left.
func (c *Cluster) OnEvent(fn func(Event)) (cancel func()) {
	id := c.events.add(func(_ uint64, ev Event) { fn(ev) })
	return func() { c.events.remove(id) }
}

// MonitorNodes sends every membership event from now on to the local process
// pid, as an Event message in its HandleInfo (net_kernel:monitor_nodes).
// The subscription ends when the process is gone or with the returned
// cancel.
func (c *Cluster) MonitorNodes(pid *actor.PID) (cancel func()) {
	id := c.events.add(func(id uint64, ev Event) {
		if !c.n.Alive(pid) {
			c.events.remove(id)
			return
		}
		_ = c.n.Send(pid, ev)
	})
	return func() { c.events.remove(id) }
}

func (q *eventQueue) add(fn func(uint64, Event)) uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nextID++
	q.subs[q.nextID] = fn
	return q.nextID
}

func (q *eventQueue) remove(id uint64) {
	q.mu.Lock()
	delete(q.subs, id)
	q.mu.Unlock()
}
