package tasks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// replicaGroup is n actor nodes on loopback, each with a member of one
// Raft group (real TCP transports, bbolt stores in temporary dirs).
type replicaGroup struct {
	nodes    []*actor.Node
	replicas []*Replica
}

func startReplicaGroup(t testing.TB, ctx context.Context, size int) *replicaGroup {
	t.Helper()
	var out io.Writer = io.Discard
	if os.Getenv("SWITCHBOARD_RAFT_LOG") != "" {
		out = os.Stderr
	}
	quiet := slog.New(slog.NewTextHandler(out, nil))
	g := &replicaGroup{}
	var lns []net.Listener
	var peers []ReplicaPeer
	for i := range size {
		n, err := actor.Start(actor.Config{Name: fmt.Sprintf("r%d@localhost", i), Listen: "127.0.0.1:0", Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Stop(context.Background()) })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		g.nodes, lns = append(g.nodes, n), append(lns, ln)
		peers = append(peers, ReplicaPeer{Node: n.Address(), Raft: ln.Addr().String()})
	}
	for i, n := range g.nodes {
		r, err := OpenReplica(ctx, n, ReplicaConfig{Group: "jobs", Dir: t.TempDir(), Listener: lns[i], Peers: peers,
			HeartbeatTimeout: 2 * time.Second, ElectionTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		g.replicas = append(g.replicas, r)
		t.Cleanup(func() { _ = r.Close() })
	}
	return g
}

// queue starts the replicated queue on member i.
func (g *replicaGroup) queue(t testing.TB, ctx context.Context, i int) *actor.PID {
	t.Helper()
	q, err := g.nodes[i].Spawn(ctx, newTasksServer(Spec{Name: "jobs", Replica: g.replicas[i], MaxQueue: Unlimited}), actor.WithName(exchange.RegisteredName("jobs")))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func inspectQueue(t testing.TB, ctx context.Context, n *actor.Node, q *actor.PID) *taskspb.TaskQueueStats {
	t.Helper()
	v, err := n.Call(ctx, q, &taskspb.TaskInspect{})
	if err != nil {
		t.Fatal(err)
	}
	return v.(*taskspb.TaskQueueStats)
}

// A replicated queue confirms a task once a majority of the group stored
// it: when its member dies, a queue started on another member (which
// takes the lead from whoever has it) holds every confirmed task not
// acked, and the keys' window, so the producer's retries are dropped.
func TestReplicatedQueueFailsOverWithEveryConfirmedTask(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g := startReplicaGroup(t, ctx, 3)
	n0 := g.nodes[0]
	q := g.queue(t, ctx, 0)
	if !g.replicas[0].IsLeader() {
		t.Fatal("the queue started without its replica leading")
	}
	const total, acked = 600, 200
	for i := range total {
		if _, err := n0.Call(ctx, q, &Submission{Msg: wrapperspb.String(fmt.Sprint("task ", i)), Key: fmt.Sprint("k", i)}); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	w := &ackWorker{queue: q, acks: acked, got: make(chan []Task, total)}
	if _, err := n0.Spawn(ctx, w); err != nil {
		t.Fatal(err)
	}
	for got := 0; got < total; {
		select {
		case b := <-w.got:
			got += len(b)
		case <-ctx.Done():
			t.Fatal("worker did not get the tasks")
		}
	}
	// The member of the queue dies: its queue and replica go at once.
	if err := g.replicas[0].Close(); err != nil {
		t.Fatal(err)
	}
	_ = n0.Stop(ctx)

	start := time.Now()
	q1 := g.queue(t, ctx, 1)
	t.Logf("queue on member 1 after %v (leader %s)", time.Since(start), g.replicas[1].Leader())
	st := inspectQueue(t, ctx, g.nodes[1], q1)
	if st.GetRestored() < total-acked || st.GetRestored() > total {
		t.Fatalf("restored %d tasks, want %d..%d", st.GetRestored(), total-acked, total)
	}
	for i := range total { // the producer's retries: all in the window
		if _, err := g.nodes[1].Call(ctx, q1, &Submission{Msg: wrapperspb.String("again"), Key: fmt.Sprint("k", i)}); err != nil {
			t.Fatalf("resubmit %d: %v", i, err)
		}
	}
	st = inspectQueue(t, ctx, g.nodes[1], q1)
	if st.GetDuplicates() != total || st.GetRestored() != uint64(st.GetReady()) {
		t.Fatalf("after the retries: duplicates %d (want %d), ready %d, restored %d", st.GetDuplicates(), total, st.GetReady(), st.GetRestored())
	}
}

// A queue whose member is cut off from the majority confirms nothing: its
// submissions fail (ErrNotLeader) and the queue stops.
func TestReplicatedQueueInAMinorityConfirmsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g := startReplicaGroup(t, ctx, 3)
	n0 := g.nodes[0]
	q := g.queue(t, ctx, 0)
	if _, err := n0.Call(ctx, q, &Submission{Msg: wrapperspb.String("before")}); err != nil {
		t.Fatal(err)
	}
	for _, r := range g.replicas[1:] {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing can commit now: no submission is confirmed.
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	_, err := n0.Call(cctx, q, &Submission{Msg: wrapperspb.String("after")})
	if err == nil {
		t.Fatal("a queue in a minority confirmed a task")
	}
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("submit in a minority: %v, want ErrNotLeader", err)
	}
}

// A replica's FSM takes any bytes as an entry or a snapshot: an entry
// that is no sequence of intact frames of TaskRecords is refused with an
// error (counted), never a panic, and a snapshot the same.
func FuzzReplicaFSM(f *testing.F) {
	good := appendRecord(nil, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Stored{Stored: &taskspb.TaskStored{Id: 7, Key: "k", AtUnixNano: 1}}})
	good = appendRecord(good, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Done{Done: &taskspb.TaskDone{Ids: []uint64{7}}}})
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fsm := newReplicaFSM(time.Minute)
		res := fsm.Apply(&raft.Log{Type: raft.LogCommand, Data: data})
		if err, _ := res.(error); err != nil && fsm.bad.Load() != 1 {
			t.Fatalf("refused entry not counted: %v", err)
		}
		_ = fsm.Restore(io.NopCloser(bytes.NewReader(data)))
		_ = fsm.state()
		if _, err := fsm.Snapshot(); err != nil {
			t.Fatal(err)
		}
	})
}

// A replicated queue delivers a task only once its entry is committed: a
// task delivered before, and lost with its entry, would come back with
// the producer's keyed retry as a second task. In a minority nothing
// commits, so nothing new is delivered.
func TestReplicatedQueueDeliversOnlyCommittedTasks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g := startReplicaGroup(t, ctx, 3)
	n0 := g.nodes[0]
	q := g.queue(t, ctx, 0)
	w := &ackWorker{queue: q, acks: 10, got: make(chan []Task, 10)}
	if _, err := n0.Spawn(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := n0.Call(ctx, q, &Submission{Msg: wrapperspb.String("before"), Key: "before"}); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-w.got:
		if len(b) != 1 || b[0].Key != "before" {
			t.Fatalf("delivered %v, want the task before", b)
		}
	case <-ctx.Done():
		t.Fatal("the committed task was not delivered")
	}
	for _, r := range g.replicas[1:] {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	if _, err := n0.Call(cctx, q, &Submission{Msg: wrapperspb.String("after"), Key: "after"}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("submit in a minority: %v, want ErrNotLeader", err)
	}
	select { // the submission waited a lease for its commit; a delivery at submission would be here
	case b := <-w.got:
		t.Fatalf("a task not committed was delivered: %v", b)
	default:
	}
}
