package tasks

// readyQueue holds the tasks waiting for a worker: one FIFO per priority,
// the highest priority first. Pure data structure, used by the queue's
// goroutine only.
type readyQueue struct {
	levels []taskDeque
	top    int // the highest non-empty level, or 0 when empty
	n      int
}

func (r *readyQueue) init(maxPriority int) { r.levels = make([]taskDeque, maxPriority+1) }

func (r *readyQueue) len() int { return r.n }

// pushBack queues a new task behind those of its priority.
func (r *readyQueue) pushBack(t *task) {
	r.levels[t.prio].pushBack(t)
	r.added(int(t.prio))
}

// pushFront puts a task that came back ahead of those of its priority.
func (r *readyQueue) pushFront(t *task) {
	r.levels[t.prio].pushFront(t)
	r.added(int(t.prio))
}

func (r *readyQueue) added(prio int) {
	r.n++
	if prio > r.top {
		r.top = prio
	}
}

// peek returns the next task, or nil.
func (r *readyQueue) peek() *task {
	if r.n == 0 {
		return nil
	}
	return r.levels[r.top].front()
}

// pop removes and returns the next task, or nil.
func (r *readyQueue) pop() *task {
	if r.n == 0 {
		return nil
	}
	t := r.levels[r.top].popFront()
	r.n--
	for r.top > 0 && r.levels[r.top].n == 0 {
		r.top--
	}
	return t
}

// each calls fn with every ready task, highest priority first, FIFO
// within a priority.
func (r *readyQueue) each(fn func(*task)) {
	for p := len(r.levels) - 1; p >= 0; p-- {
		d := &r.levels[p]
		for i := 0; i < d.n; i++ {
			fn(d.buf[(d.head+i)&(len(d.buf)-1)])
		}
	}
}

// taskDeque is a ring buffer of tasks that grows and shrinks by halves.
type taskDeque struct {
	buf  []*task
	head int
	n    int
}

const minDeque = 16

func (d *taskDeque) pushBack(t *task) {
	d.grow()
	d.buf[(d.head+d.n)&(len(d.buf)-1)] = t
	d.n++
}

func (d *taskDeque) pushFront(t *task) {
	d.grow()
	d.head = (d.head - 1) & (len(d.buf) - 1)
	d.buf[d.head] = t
	d.n++
}

func (d *taskDeque) front() *task { return d.buf[d.head] }

func (d *taskDeque) back() *task { return d.buf[(d.head+d.n-1)&(len(d.buf)-1)] }

func (d *taskDeque) popFront() *task {
	t := d.buf[d.head]
	d.buf[d.head] = nil
	d.head = (d.head + 1) & (len(d.buf) - 1)
	d.n--
	if len(d.buf) > minDeque && d.n < len(d.buf)/4 {
		d.resize(len(d.buf) / 2)
	}
	return t
}

func (d *taskDeque) grow() {
	switch {
	case d.buf == nil:
		d.buf = make([]*task, minDeque)
	case d.n == len(d.buf):
		d.resize(2 * len(d.buf))
	}
}

// resize copies the tasks, in order, into a buffer of size (a power of two).
func (d *taskDeque) resize(size int) {
	buf := make([]*task, size)
	for i := 0; i < d.n; i++ {
		buf[i] = d.buf[(d.head+i)&(len(d.buf)-1)]
	}
	d.buf, d.head = buf, 0
}
