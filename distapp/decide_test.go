package distapp

import (
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/supervisor"
)

func TestRank(t *testing.T) {
	nodes := [][]string{{"a"}, {"b", "c"}, {"d"}}
	for _, tc := range []struct {
		cands []string
		load  map[string]int
		want  []string
	}{
		{[]string{"d", "c", "b", "a"}, nil, []string{"a", "b", "c", "d"}},
		{[]string{"d", "c", "b"}, map[string]int{"b": 1}, []string{"c", "b", "d"}},
		{[]string{"d", "c", "b"}, map[string]int{"b": 2, "c": 1, "d": 0}, []string{"c", "b", "d"}},
		{[]string{"c", "a"}, map[string]int{"a": 5}, []string{"a", "c"}}, // priority before load
	} {
		got := rank(nodes, tc.cands, tc.load)
		if len(got) != len(tc.want) {
			t.Fatalf("rank(%v, %v) = %v, want %v", tc.cands, tc.load, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("rank(%v, %v) = %v, want %v", tc.cands, tc.load, got, tc.want)
			}
		}
	}
}

// TestDecide runs scenarios step by step: each step is a view at a time
// and the decision expected.
func TestDecide(t *testing.T) {
	sp := &Spec{Nodes: [][]string{{"a"}, {"b", "c"}}, Stagger: 500 * time.Millisecond}
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		now     int // ms after t0
		present []string
		holders []string
		load    map[string]int
		want    action
		from    string
		st      supervisor.StartType
	}
	failover := func(from string) supervisor.StartType {
		return supervisor.StartType{Mode: supervisor.Failover, From: from}
	}
	for _, tc := range []struct {
		name    string
		self    string
		timeout time.Duration
		steps   []step
	}{
		{"first start: the best ready node starts it, Normal", "a", 0, []step{
			{now: 0, present: []string{"a", "b", "c"}, want: attempt},
		}},
		{"first start: the second waits a stagger", "b", 0, []step{
			{now: 0, present: []string{"a", "b", "c"}, want: none},
			{now: 499, present: []string{"a", "b", "c"}, want: none},
			{now: 500, present: []string{"a", "b", "c"}, want: attempt},
			{now: 600, present: []string{"a", "b", "c"}, holders: []string{"a"}, want: cancel},
		}},
		{"failover: b is first of the equals", "b", 0, []step{
			{now: 0, present: []string{"a", "b", "c"}, holders: []string{"a"}, want: none},
			{now: 100, present: []string{"b", "c"}, want: attempt, st: failover("a")},
		}},
		{"failover: c waits for b", "c", 0, []step{
			{now: 0, present: []string{"a", "b", "c"}, holders: []string{"a"}, want: none},
			{now: 100, present: []string{"b", "c"}, want: none},
			{now: 600, present: []string{"b", "c"}, want: attempt, st: failover("a")},
		}},
		{"failover: the fewest applications first", "c", 0, []step{
			{now: 0, present: []string{"a", "b", "c"}, holders: []string{"a"}, want: none},
			{now: 100, present: []string{"b", "c"}, load: map[string]int{"b": 1}, want: attempt, st: failover("a")},
		}},
		{"failover timeout", "b", 2 * time.Second, []step{
			{now: 0, present: []string{"a", "b", "c"}, holders: []string{"a"}, want: none},
			{now: 100, present: []string{"b", "c"}, want: none},
			{now: 2099, present: []string{"b", "c"}, want: none},
			{now: 2100, present: []string{"b", "c"}, want: attempt, st: failover("a")},
		}},
		{"the holder returns within the timeout: nothing to do", "b", 2 * time.Second, []step{
			{now: 0, present: []string{"a", "b", "c"}, holders: []string{"a"}, want: none},
			{now: 100, present: []string{"b", "c"}, want: none},
			{now: 1000, present: []string{"a", "b", "c"}, holders: []string{"a"}, want: none},
			{now: 2200, present: []string{"a", "b", "c"}, holders: []string{"a"}, want: none},
		}},
		{"a higher-priority node that starts takes over", "a", 0, []step{
			{now: 0, present: []string{"a", "b", "c"}, holders: []string{"b"}, want: takeover, from: "b"},
			{now: 100, present: []string{"a", "b", "c"}, holders: []string{"b"}, want: none},
		}},
		{"an equal-priority node that starts does not", "c", 0, []step{
			{now: 0, present: []string{"b", "c"}, holders: []string{"b"}, want: none},
		}},
		{"a node not present does not try", "c", 0, []step{
			{now: 0, present: []string{"a", "b"}, want: none},
			{now: 5000, present: []string{"a", "b"}, want: none},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := *sp
			sp.FailoverTimeout = tc.timeout
			s := state{startup: true}
			for i, stp := range tc.steps {
				var d decision
				s, d = decide(&sp, tc.self, s, view{now: at(stp.now), present: stp.present, holders: stp.holders, load: stp.load})
				if d.act != stp.want || d.from != stp.from || (d.act == attempt && d.st != stp.st) {
					t.Fatalf("step %d (%d ms): decision %+v, want %v from %q start %+v", i, stp.now, d, stp.want, stp.from, stp.st)
				}
				switch d.act {
				case attempt:
					s.attempting = true
				case cancel:
					s.attempting = false
				}
			}
		})
	}
}
