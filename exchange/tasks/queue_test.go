package tasks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// The task queue's state is pure, so its behaviour is tested with
// scenarios: testdata/*.txt are scripts of events ("> submit a
// prio=2") each followed by what the queue sent (deliveries, revocations,
// refusals, dead letters) and the errors it returned, checked line by line.
//
//	> spec ack_timeout=10 max_deliveries=2 max_queue=3 max_priority=3
//	> join w1 prefetch=2          a worker joins (or changes its limit)
//	> submit a prio=1             a task named a
//	> dispatch now=0              deliver what can be delivered, at time 0
//	> ack w1 a | nack w1 a | reject w1 a why
//	> ack w1 tag=99               an ack of a raw tag
//	> expire now=10               the sweep at time 10
//	> down w1                     the worker exited
//	> stats                       the counters
//
// Output: the error returned, if any ("error: ..."), then "w1 <- a#1"
// (task a, first delivery), "w1 revoked a",
// "w1 refused a", "dead a delivery_limit: ...", "error: ...".
func TestTaskQueueScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no scenarios")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScenario(t, f) })
	}
}

type scenario struct {
	q       *taskQueue
	workers map[string]*actor.PID
	names   map[uint64]string // tag -> task name
	tags    map[string]uint64 // task name -> its current tag
	out     []string
}

func runScenario(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario{workers: map[string]*actor.PID{}, names: map[uint64]string{}, tags: map[string]uint64{}}
	spec := Spec{Name: "q"}
	spec.defaults()
	sc.q = newTaskQueue(&spec, 100)
	var want []string
	check := func(line int) {
		if !slices.Equal(sc.out, want) {
			t.Fatalf("%s:%d:\ngot:\n  %s\nwant:\n  %s", file, line, strings.Join(sc.out, "\n  "), strings.Join(want, "\n  "))
		}
		sc.out, want = nil, nil
	}
	lines := strings.Split(string(data), "\n")
	cmdLine := 0
	for i, line := range lines {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "> "):
			check(cmdLine)
			cmdLine = i + 1
			if strings.HasPrefix(line, "> spec ") {
				spec = Spec{Name: "q"}
				for k, v := range args(strings.Fields(line)[2:]) {
					n, _ := strconv.Atoi(v)
					switch k {
					case "ack_timeout":
						spec.AckTimeout = time.Duration(n)
					case "max_deliveries":
						spec.MaxDeliveries = n
					case "max_queue":
						spec.MaxQueue = n
					case "max_priority":
						spec.MaxPriority = n
					}
				}
				spec.defaults()
				sc.q = newTaskQueue(&spec, 100)
				continue
			}
			sc.do(t, strings.Fields(line)[1:])
			if err := sc.q.invariants(); err != nil {
				t.Fatalf("%s:%d: after %q: %v", file, i+1, line, err)
			}
		default:
			want = append(want, line)
		}
	}
	check(cmdLine)
}

// invariants checks what the queue's bookkeeping must keep true after
// every event: each worker's outstanding count is its tasks in flight,
// the in-flight list holds the in-flight tasks in delivery order, and the
// room is the free slots of the registered workers (an inflated room
// delivers the same, but makes every dispatch scan workers for nothing).
func (q *taskQueue) invariants() error {
	held := map[*taskWorker]int{}
	listed := 0
	for t := q.oldest; t != nil; t = t.next {
		if q.inflight[t.tag] != t {
			return fmt.Errorf("task %d (tag %d) in the in-flight list but not in the table", t.id, t.tag)
		}
		if t.next != nil && t.next.deadline < t.deadline {
			return fmt.Errorf("in-flight list out of deadline order at task %d", t.id)
		}
		held[t.worker]++
		listed++
	}
	if listed != len(q.inflight) {
		return fmt.Errorf("%d tasks in the in-flight list, %d in the table", listed, len(q.inflight))
	}
	room := 0
	for _, w := range q.workers {
		if q.byKey[w.key] != w {
			return fmt.Errorf("worker %s in the rotation but not registered", w.key)
		}
		if w.outstanding != held[w] {
			return fmt.Errorf("worker %s: outstanding %d, %d tasks in flight", w.key, w.outstanding, held[w])
		}
		room += max(0, w.prefetch-w.outstanding)
		delete(held, w)
	}
	if len(held) > 0 {
		return fmt.Errorf("tasks in flight at %d workers no longer registered", len(held))
	}
	if len(q.byKey) != len(q.workers) {
		return fmt.Errorf("%d workers registered, %d in the rotation", len(q.byKey), len(q.workers))
	}
	if q.room != room {
		return fmt.Errorf("room %d; the workers have %d free slots", q.room, room)
	}
	return nil
}

func args(fields []string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

func (sc *scenario) worker(name string) *taskWorker {
	pid, ok := sc.workers[name]
	if !ok {
		return &taskWorker{key: workerKey{id: "nobody"}, pid: actor.NewPID("n1", name)}
	}
	if w := sc.q.byKey[pidKey(pid)]; w != nil {
		return w
	}
	return &taskWorker{key: workerKey{id: "gone"}, pid: pid}
}

func (sc *scenario) do(t *testing.T, f []string) {
	q := sc.q
	a := args(f[1:])
	num := func(k string) int { n, _ := strconv.Atoi(a[k]); return n }
	errOut := func(err error) {
		if err != nil {
			sc.out = append(sc.out, "error: "+err.Error())
		}
	}
	tagOf := func() uint64 {
		if v, ok := a["tag"]; ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
		return sc.tags[f[2]]
	}
	switch f[0] {
	case "join":
		pid, ok := sc.workers[f[1]]
		if !ok {
			pid = actor.NewPID("n1", f[1])
			sc.workers[f[1]] = pid
		}
		q.join(pid, num("prefetch"))
	case "submit":
		errOut(q.submit(f[1], nil, num("prio"), num("parked")))
	case "dispatch":
		q.dispatch(int64(num("now")))
	case "ack":
		errOut(q.ack(sc.worker(f[1]), tagOf()))
	case "nack":
		errOut(q.nack(sc.worker(f[1]), tagOf()))
	case "reject":
		errOut(q.reject(sc.worker(f[1]), tagOf(), DeadCause_DEAD_CAUSE_REJECTED, strings.Join(f[3:], " ")))
	case "expire":
		q.expire(int64(num("now")))
	case "down":
		q.remove(sc.worker(f[1]), "worker exited: "+strings.Join(f[2:], " "))
	case "stats":
		s := q.snapshot()
		sc.out = append(sc.out, fmt.Sprintf("ready=%d inflight=%d workers=%d submitted=%d refused=%d delivered=%d redelivered=%d acked=%d nacked=%d expired=%d rejected=%d refused_acks=%d dead=%d",
			s.Ready, s.InFlight, s.Workers, s.Submitted, s.Refused, s.Delivered, s.Redelivered, s.Acked, s.Nacked, s.Expired, s.Rejected, s.RefusedAcks, s.DeadLettered))
	default:
		t.Fatalf("unknown command %q", f[0])
	}
	sc.collect()
}

// collect turns the queue's outbox into output lines and empties it, as
// the queue process does.
func (sc *scenario) collect() {
	q := sc.q
	nameOf := func(pid *actor.PID) string { return pid.Id }
	for _, w := range q.busy {
		w.busy = false
		for _, tag := range w.revoked {
			sc.out = append(sc.out, nameOf(w.pid)+" revoked "+sc.names[tag])
		}
		for _, tag := range w.refused {
			n := sc.names[tag]
			if n == "" {
				n = "tag=" + strconv.FormatUint(tag, 10)
			}
			sc.out = append(sc.out, nameOf(w.pid)+" refused "+n)
		}
		for _, t := range w.batch {
			name := t.msg.(string)
			sc.names[t.tag], sc.tags[name] = name, t.tag
			sc.out = append(sc.out, fmt.Sprintf("%s <- %s#%d", nameOf(w.pid), name, t.deliveries))
		}
		w.revoked, w.refused, w.batch = nil, nil, w.batch[:0]
	}
	q.busy = q.busy[:0]
	for _, d := range q.dead {
		cause := strings.ToLower(strings.TrimPrefix(d.cause.String(), "DEAD_CAUSE_"))
		sc.out = append(sc.out, fmt.Sprintf("dead %s %s: %s", d.msg, cause, d.reason))
	}
	q.dead = q.dead[:0]
}

func TestTasksSpecValidate(t *testing.T) {
	for _, s := range []Spec{
		{},
		{Name: "q", AckTimeout: -1},
		{Name: "q", MaxDeliveries: -2},
		{Name: "q", MaxQueue: -5},
		{Name: "q", MaxPriority: 256},
		{Name: "q", MaxPriority: -1},
		{Name: "q", MaxPayload: -1},
		{Name: "q", DeadLetter: exchange.Named("q")},
		{Name: "q", DeadLetterKey: "dead"},
		{Name: "q", DeadLetter: exchange.Named("dead"), DeadLetterKey: "dead.*"},
	} {
		if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), exchange.ErrInvalidSpec.Error()) {
			t.Errorf("%+v: Validate = %v; want ErrInvalidSpec", s, err)
		}
	}
	for _, s := range []Spec{
		{Name: "q"},
		{Name: "q", MaxDeliveries: Unlimited, MaxQueue: Unlimited, MaxPriority: 255, DeadLetter: exchange.Named("dead")},
		{Name: "q", DeadLetter: exchange.At("other:1", "q")},
		{Name: "q", DeadLetter: exchange.Named("deaths"), DeadLetterKey: "dead.q"},
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

// The ready queue's ring buffers keep FIFO order across growth, shrinking
// and pushes at the front.
func TestReadyQueueOrder(t *testing.T) {
	var r readyQueue
	r.init(2)
	const n = 1000
	for i := 0; i < n; i++ {
		r.pushBack(&task{id: uint64(i), prio: uint8(i % 3)})
	}
	r.pushFront(&task{id: n, prio: 0})
	var got []uint64
	for r.len() > 0 {
		got = append(got, r.pop().id)
	}
	var want []uint64
	for p := 2; p >= 0; p-- {
		if p == 0 {
			want = append(want, n)
		}
		for i := 0; i < n; i++ {
			if i%3 == p {
				want = append(want, uint64(i))
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order differs at %d", firstDiff(got, want))
	}
	if r.pop() != nil || r.peek() != nil {
		t.Fatal("empty queue returned a task")
	}
}

func firstDiff(a, b []uint64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
