package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/statuspb"
)

// leaders lists the nodes whose subscriptions controller says it leads.
func leaders(sts map[string]*statuspb.Status) []string {
	var out []string
	for _, n := range sortedKeys(sts) {
		if sts[n].GetFacts()[subscriptions.Leading] == "yes" {
			out = append(out, n)
		}
	}
	return out
}

// The subscriptions controller works only on the leader the exchange
// appointed: one node leads, only it sweeps and answers; when its node is
// killed another controller is appointed, holds the same lists, and takes
// the work over.
func TestSubscriptionsControllerRunsOnlyOnTheLeaderAndMoves(t *testing.T) {
	const clients = 3 // per access node, two subscriptions each
	r := startTestRig(t, clients)
	want := uint64(len(r.byRole("access")) * clients * 2)
	var leader string
	eventually(t, 10*time.Second, "one leader that has swept", func() (bool, string) {
		sts := statusesNow(r)
		ls := leaders(sts)
		if len(ls) != 1 {
			return false, fmt.Sprintf("leaders %v", ls)
		}
		leader = ls[0]
		return sts[leader].GetCounters()[subscriptions.Sweeps] >= 2, "no sweeps yet"
	})
	sts := statusesNow(r)
	for n, st := range sts {
		if n != leader && (st.GetCounters()[subscriptions.Sweeps] > 0 || st.GetCounters()[subscriptions.Served] > 0) {
			t.Fatalf("%s is not the leader (%s is) but swept %d times and served %d requests", n, leader,
				st.GetCounters()[subscriptions.Sweeps], st.GetCounters()[subscriptions.Served])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := subscriptions.List(ctx, r.client, subscriptions.Config{}, "u0")
	if err != nil {
		t.Fatal(err)
	}
	if l.GetLeader() != leader || l.GetTotal() != want {
		t.Fatalf("list answered by %s with %d subscriptions; want %s and %d", l.GetLeader(), l.GetTotal(), leader, want)
	}
	r.kill(leader)
	var next string
	eventually(t, 15*time.Second, "a new leader", func() (bool, string) {
		ls := leaders(statusesNow(r))
		if len(ls) != 1 || ls[0] == leader {
			return false, fmt.Sprintf("leaders %v", ls)
		}
		next = ls[0]
		return true, ""
	})
	eventually(t, 15*time.Second, "the new leader answers", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		l, err := subscriptions.List(ctx, r.client, subscriptions.Config{}, "u0")
		if err != nil {
			return false, err.Error()
		}
		return l.GetLeader() == next && l.GetTotal() == want && len(l.GetClients()) == len(initialU0(r, clients)),
			fmt.Sprintf("answered by %s: %d subscriptions, u0: %v", l.GetLeader(), l.GetTotal(), l.GetClients())
	})
	sweeps := statusesNow(r)[next].GetCounters()[subscriptions.Sweeps]
	eventually(t, 10*time.Second, "the new leader sweeps", func() (bool, string) {
		n := statusesNow(r)[next].GetCounters()[subscriptions.Sweeps]
		return n > sweeps, fmt.Sprintf("%d sweeps", n)
	})
}

// initialU0 lists the rig's clients that follow u0 (each client i of an
// access node follows u(i mod 10) and u(i+3 mod 10)).
func initialU0(r *rig, clients int) []int {
	var out []int
	for range r.byRole("access") {
		for i := range clients {
			if i%followed == 0 || (i+3)%followed == 0 {
				out = append(out, i)
			}
		}
	}
	return out
}
