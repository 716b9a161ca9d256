package dashboard

import (
	"testing"
	"time"
)

func TestRosterKeepsDownNodesUntilForgotten(t *testing.T) {
	r := newRoster(time.Minute)
	t0 := time.Unix(1000, 0)
	got := r.update(t0, []NodeView{{Name: "b", Links: []string{"a"}}, {Name: "a", Links: []string{"b"}}}, nil)
	if len(got) != 2 || got[0].Name != "a" || !got[0].Up || !got[1].Up || !got[0].LastSeen.Equal(t0) {
		t.Fatalf("round 1: %+v", got)
	}
	// b does not answer: down with why, its links gone, last seen at t0.
	t1 := t0.Add(time.Second)
	got = r.update(t1, []NodeView{{Name: "a"}}, []NodeView{{Name: "b", Error: "actor: node down"}})
	if b := got[1]; b.Up || b.Error != "actor: node down" || b.Links != nil || !b.LastSeen.Equal(t0) {
		t.Fatalf("round 2: b %+v", b)
	}
	// b has left the cluster: still shown, down, until Forget.
	got = r.update(t0.Add(time.Minute), []NodeView{{Name: "a"}}, nil)
	if len(got) != 2 || got[1].Up || got[1].Error != "gone from the cluster" {
		t.Fatalf("round 3: %+v", got)
	}
	got = r.update(t0.Add(time.Minute+time.Second), []NodeView{{Name: "a"}}, nil)
	if len(got) != 1 || got[0].Name != "a" {
		t.Fatalf("round 4, b forgotten: %+v", got)
	}
	// A member never seen up is shown down from the time it was found so.
	got = r.update(t0.Add(2*time.Minute), []NodeView{{Name: "a"}}, []NodeView{{Name: "c", Address: "x:1", Error: "no inspector"}})
	if len(got) != 2 || got[1].Name != "c" || got[1].Address != "x:1" || got[1].Up || !got[1].LastSeen.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("round 5: %+v", got)
	}
	// b back: up again.
	got = r.update(t0.Add(3*time.Minute), []NodeView{{Name: "a"}, {Name: "b"}}, nil)
	if len(got) != 3 || !got[1].Up || got[1].Error != "" {
		t.Fatalf("round 6: %+v", got)
	}
}

func TestRates(t *testing.T) {
	r := newRates()
	t0 := time.Unix(1000, 0)
	if got := r.rate("x", 10, t0); got != 0 {
		t.Fatalf("first sight: %v", got)
	}
	r.roll()
	if got := r.rate("x", 30, t0.Add(2*time.Second)); got != 10 {
		t.Fatalf("20 in 2 s: %v", got)
	}
	r.roll()
	if got := r.rate("x", 5, t0.Add(3*time.Second)); got != 0 {
		t.Fatalf("a counter that went back (node restarted): %v", got)
	}
	r.roll()
	r.roll() // x not seen for a round: forgotten
	if got := r.rate("x", 50, t0.Add(5*time.Second)); got != 0 {
		t.Fatalf("after a round without x: %v", got)
	}
}
