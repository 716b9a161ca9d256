package tasks

// keyWindow remembers the idempotency keys of the tasks a queue took
// within its DedupWindow (JetStream's Msg-Id window): a task whose key is
// in it is a producer's retry, confirmed and not queued again. Pure logic:
// the time (wall clock, in Unix ns, since the window of a durable queue
// outlives the process) comes with each call.
type keyWindow struct {
	window int64 // ns
	max    int
	seen   map[string]keyEntry
	order  []keyAt // by time first seen; stale entries are skipped
	head   int
}

// keyEntry is what the window knows of a key: when it was first seen, the
// task it made, and the log commit that stores it (0 once synced, or in a
// queue that is not durable).
type keyEntry struct {
	at  int64
	id  uint64
	seq uint64
}

type keyAt struct {
	key string
	at  int64
}

func newKeyWindow(window int64, max int) *keyWindow {
	return &keyWindow{window: window, max: max, seen: map[string]keyEntry{}}
}

// lookup returns key's entry if it was seen within the window before now.
func (k *keyWindow) lookup(key string, now int64) (keyEntry, bool) {
	k.expire(now)
	e, ok := k.seen[key]
	return e, ok
}

// add records a key first seen at at; at the bound on keys, the oldest is
// forgotten early.
func (k *keyWindow) add(key string, at int64, id, seq uint64) {
	if _, ok := k.seen[key]; !ok && k.max > 0 && len(k.seen) >= k.max {
		k.dropOldest()
	}
	k.seen[key] = keyEntry{at: at, id: id, seq: seq}
	k.order = append(k.order, keyAt{key: key, at: at})
}

// expire forgets the keys first seen a window or more before now.
func (k *keyWindow) expire(now int64) {
	for k.head < len(k.order) && k.order[k.head].at+k.window <= now {
		k.forget(k.order[k.head])
	}
	k.compact()
}

func (k *keyWindow) dropOldest() {
	for k.head < len(k.order) {
		o := k.order[k.head]
		if e, ok := k.seen[o.key]; ok && e.at == o.at {
			k.forget(o)
			return
		}
		k.forget(o)
	}
}

// forget pops o off the order, and its key if o is its current entry.
func (k *keyWindow) forget(o keyAt) {
	if e, ok := k.seen[o.key]; ok && e.at == o.at {
		delete(k.seen, o.key)
	}
	k.order[k.head] = keyAt{}
	k.head++
}

// compact drops the popped prefix of order once it is most of it.
func (k *keyWindow) compact() {
	if k.head > 1024 && k.head > len(k.order)/2 {
		k.order = append(k.order[:0], k.order[k.head:]...)
		k.head = 0
	}
}

// each calls fn with every key in the window, oldest first.
func (k *keyWindow) each(fn func(key string, e keyEntry)) {
	for _, o := range k.order[k.head:] {
		if e, ok := k.seen[o.key]; ok && e.at == o.at {
			fn(o.key, e)
		}
	}
}
