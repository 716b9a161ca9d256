package tasks

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// A takeover: the queue runs on member 0 and a second instance starts on
// member 1 while the first still runs. The lead moves once (the term
// grows by one), the old instance does not stop (its restart would pull
// the lead back) and confirms nothing more (ErrNotLeader), the new one
// holds every task confirmed before. When the new instance goes (the
// takeover failed), the old one stops, for its supervisor to restart it.
func TestReplicatedQueueYieldsTheLeadInATakeover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g := startReplicaGroup(t, ctx, 3)
	n0, n1 := g.nodes[0], g.nodes[1]
	q0 := g.queue(t, ctx, 0)
	const total = 300
	for i := range total {
		if _, err := n0.Call(ctx, q0, &Submission{Msg: wrapperspb.String("t"), Key: fmt.Sprint("k", i)}); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	downs, unwatch := n0.Watch(q0)
	defer unwatch()
	term := g.replicas[0].Term()
	q1 := g.queue(t, ctx, 1) // its start takes the lead from member 0
	if !g.replicas[1].IsLeader() {
		t.Fatal("the new instance started without its member leading")
	}
	if st := inspectQueue(t, ctx, n1, q1); st.GetRestored() != total {
		t.Fatalf("the new instance holds %d tasks, want %d", st.GetRestored(), total)
	}
	if _, err := n0.Call(ctx, q0, &Submission{Msg: wrapperspb.String("late"), Key: "late"}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a submission to the old instance: %v, want ErrNotLeader", err)
	}
	// The old instance waits, passive: the lead stays where it went.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		select {
		case d := <-downs:
			t.Fatalf("the old instance stopped during the takeover: %v", d.Reason)
		case <-time.After(100 * time.Millisecond):
		}
		if !g.replicas[1].IsLeader() {
			t.Fatalf("the lead left the new instance's member (leader %q)", g.replicas[1].Leader())
		}
	}
	if moved := g.replicas[1].Term() - term; moved != 1 {
		t.Fatalf("the lead moved %d times, want 1", moved)
	}
	// The takeover fails: the new instance stops; the old one stops too.
	if err := n1.StopProcess(ctx, q1, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-downs:
		if !errors.Is(d.Reason, ErrNotLeader) {
			t.Fatalf("the old instance stopped with %v, want ErrNotLeader", d.Reason)
		}
	case <-ctx.Done():
		t.Fatal("the old instance runs on after the takeover ended")
	}
}
