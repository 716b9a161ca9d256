package history

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func op(id, kind string, inv, done, deadline int, outcome, err string) Record {
	r := Record{Type: TypeOp, ID: id, Kind: kind, Client: "c1", Node: "n1", Exchange: "ex", Invoke: at(inv), Outcome: outcome, Err: err}
	if done >= 0 {
		r.Complete = at(done)
	}
	if deadline >= 0 {
		r.Deadline = at(deadline)
	}
	return r
}

func keyed(r Record, key string) Record { r.Key = key; return r }

func stream(r Record, want, chunks, inOrder int) Record {
	r.Want, r.Chunks, r.InOrder = want, chunks, inOrder
	return r
}

func exAt(r Record, nodes ...string) Record { r.Nodes = nodes; return r }

func onNode(r Record, node string) Record { r.Node = node; return r }

func sub(id, client, node, pattern string, confirmed int) Record {
	return Record{Type: TypeOp, ID: id, Kind: OpSubscribe, Client: client, Node: node, Key: pattern, Invoke: at(confirmed - 1), Complete: at(confirmed), Outcome: OutcomeOK}
}

func pub(id, node, key string, ms int) Record {
	return Record{Type: TypeOp, ID: id, Kind: OpPublish, Client: "p", Node: node, Key: key, Invoke: at(ms), Complete: at(ms + 1), Outcome: OutcomeOK}
}

// hubPub is pub on an exchange of the distributed application hub.
func hubPub(id string, ms int) Record {
	r := pub(id, "n1", "user.x", ms)
	r.App = "hub"
	return r
}

func deliver(client, id string, ms int) Record {
	return Record{Type: TypeDelivery, Client: client, ID: id, Invoke: at(ms)}
}

func effect(key string, ms int) Record {
	return Record{Type: TypeEffect, Key: key, Node: "n2", Invoke: at(ms)}
}

func fault(kind string, from, to int, nodes ...string) Record {
	return Record{Type: TypeFault, Kind: kind, Nodes: nodes, Invoke: at(from), Complete: at(to)}
}

func inst(app, node, kind string, ms int) Record {
	return Record{Type: TypeInstance, App: app, Node: node, Kind: kind, Invoke: at(ms)}
}

func view(node string, ms int, members ...string) Record {
	return Record{Type: TypeMembership, Node: node, Members: members, Invoke: at(ms)}
}

func sample(node string, ms, gor int, heap uint64) Record {
	return Record{Type: TypeSample, Node: node, Gor: gor, Heap: heap, Invoke: at(ms)}
}

var cfg = Config{Margin: 100 * time.Millisecond, Settle: 500 * time.Millisecond, Handover: 200 * time.Millisecond,
	MaxGoroutines: 1000, MaxHeap: 1 << 30, Growth: 2, Volatile: time.Second}

// volatile is a task to an in-memory queue run by app, confirmed at ms,
// never applied.
func volatile(id, app string, ms int) Record {
	r := keyed(op(id, OpTask, ms-10, ms, ms+5000, OutcomeOK, ""), "V-"+id)
	r.Volatile, r.App = true, app
	return r
}

// good is a history that breaks no rule, touching every rule's excuse.
func good() []Record {
	return []Record{
		op("r1", OpRequest, 0, 10, 1000, OutcomeOK, ""),
		op("r2", OpRequest, 0, 1050, 1000, OutcomeError, "ErrTimeout"), // late within the margin
		keyed(op("k1", OpKeyed, 0, 10, 1000, OutcomeOK, ""), "K1"),
		keyed(op("k1b", OpKeyed, 20, 30, 1000, OutcomeOK, ""), "K1"), // a retry: applied once
		effect("K1", 5),
		keyed(op("t1", OpTask, 0, 10, 1000, OutcomeOK, ""), "T1"),
		effect("T1", 40),
		keyed(op("t2", OpTask, 0, 10, 1000, OutcomeError, "ErrQueueFull"), "T2"), // not confirmed: may be lost
		sub("s1", "sub1", "n3", "user.*.#", 100),
		pub("e0", "n1", "user.a.b", 50), // before the confirmation: not owed
		pub("e1", "n1", "user.a.b", 200),
		deliver("sub1", "e1", 210),
		pub("e2", "n1", "order.a", 210), // does not match
		fault(FaultPause, 3000, 4000, "n3"),
		pub("e3", "n1", "user.a", 3500), // missed while sub1's node is paused: a gap
		stream(op("st1", OpStream, 0, 10, 1000, OutcomeOK, ""), 5, 5, 5),
		stream(op("st2", OpStream, 0, 10, 1000, OutcomeError, "node-down"), 5, 2, 2), // cut short with a typed error
		inst("app", "n1", "start", 0),
		fault(FaultKill, 5000, 5500, "n1"),
		inst("app", "n2", "start", 5100), // n1's instance died with it
		inst("app", "n3", "start", 3600), // n3 paused from 3000: its overlap mostly frozen... then stopped
		inst("app", "n3", "stop", 3700),
		inst("app", "n1", "start", 5600), // takeover
		inst("app", "n2", "stop", 5700),
		view("n1", 6100, "n1", "n2", "n3"),
		view("n2", 6100, "n1", "n2", "n3"),
		view("n3", 5000, "n3"), // before the settle: not counted
		view("n3", 6200, "n3", "n2", "n1"),
		sample("n1", 0, 50, 1e6), sample("n1", 1, 50, 1e6), sample("n1", 2, 60, 1e6), sample("n1", 3, 60, 1e6),
		sample("n1", 4, 70, 1e6), sample("n1", 5, 70, 1e6), sample("n1", 6, 80, 1e6), sample("n1", 7, 80, 1.5e6),
	}
}

// paused: b runs on n2, n2 is paused from 1000 to 2000, n4 takes b over
// at 1200, and n2's instance stops at stop.
func paused(stop int) []Record {
	return with(inst("b", "n2", "start", 0), fault(FaultPause, 1000, 2000, "n2"), inst("b", "n4", "start", 1200), inst("b", "n2", "stop", stop))
}

func with(extra ...Record) []Record { return append(good(), extra...) }

func without(id string) []Record {
	return slices.DeleteFunc(good(), func(r Record) bool { return r.ID == id || r.Key == id && r.Type == TypeEffect })
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		recs []Record
		rule string // "" for no violation
		ops  []string
	}{
		{"good", good(), "", nil},
		{"confirmed task lost", without("T1"), RuleTaskLost, []string{"t1"}},
		{"keyed request applied twice", with(effect("K1", 50)), RuleAppliedTwice, []string{"k1", "k1b"}},
		{"task applied twice", with(effect("T1", 60)), RuleAppliedTwice, []string{"t1"}},
		{"request never answered", with(op("r3", OpRequest, 100, -1, 1000, "", "")), RuleHang, []string{"r3"}},
		{"request answered past the margin, its client stalled", with(op("r4", OpRequest, 100, 1101, 1000, OutcomeError, "ErrTimeout"), fault(FaultStall, 900, 1050, "n1")), "", nil},
		{"request answered past the margin, another node stalled", with(op("r4", OpRequest, 100, 1101, 1000, OutcomeError, "ErrTimeout"), fault(FaultStall, 900, 1050, "n2")), RuleHang, []string{"r4"}},
		{"stalled instance stopped within the handover after its stall", with(inst("b", "n2", "start", 0), fault(FaultStall, 1000, 2000, "n2"), inst("b", "n4", "start", 1200), inst("b", "n2", "stop", 2100)), "", nil},
		{"request answered past the margin", with(op("r4", OpRequest, 100, 1101, 1000, OutcomeError, "ErrTimeout")), RuleHang, []string{"r4"}},
		{"timeout with no fault near", with(op("r6", OpRequest, 100, 1100, 1100, OutcomeError, ErrTimeout)), RuleCalmTimeout, []string{"r6"}},
		{"timeout after a fault, within the settle time", with(op("r6", OpRequest, 5900, 6900, 6900, OutcomeError, ErrTimeout)), "", nil},
		{"failure without a typed error", with(op("r5", OpRequest, 100, 200, 1000, OutcomeError, ErrUntyped)), RuleUntyped, []string{"r5"}},
		{"event lost", slices.DeleteFunc(good(), func(r Record) bool { return r.Type == TypeDelivery }), RuleEventLost, []string{"e1->s1"}},
		{"event lost with no fault near", with(pub("e4", "n1", "user.x", 2000)), RuleEventLost, []string{"e4->s1"}},
		{"event lost, a fault on an unrelated node", with(pub("e4", "n1", "user.x", 2000), fault(FaultPause, 1900, 2100, "n2")), RuleEventLost, []string{"e4->s1"}},
		{"event lost, its exchange's node killed", with(exAt(pub("e4", "n1", "user.x", 2000), "n5"), fault(FaultKill, 1900, 2100, "n5")), "", nil},
		{"event lost, another exchange's node killed", with(exAt(pub("e4", "n1", "user.x", 2000), "n5"), fault(FaultKill, 1900, 2100, "n4")), RuleEventLost, []string{"e4->s1"}},
		{"event lost, its exchange's application moved", with(hubPub("e4", 2000), inst("hub", "n4", "stop", 1900), inst("hub", "n5", "start", 2100)), "", nil},
		{"event lost, another application moved", with(hubPub("e4", 2000), inst("other", "n5", "start", 2100)), RuleEventLost, []string{"e4->s1"}},
		{"stream chunk out of order", with(stream(op("st3", OpStream, 0, 30, 1000, OutcomeOK, ""), 5, 5, 3)), RuleStream, []string{"st3"}},
		{"stream failed after a chunk out of order", with(stream(op("st3", OpStream, 0, 30, 1000, OutcomeError, "node-down"), 5, 3, 2)), RuleStream, []string{"st3"}},
		{"stream ended early without an error", with(stream(op("st3", OpStream, 0, 30, 1000, OutcomeOK, ""), 5, 4, 4)), RuleStream, []string{"st3"}},
		{"stream never ended", with(stream(op("st3", OpStream, 0, -1, 1000, "", ""), 5, 4, 4)), RuleHang, []string{"st3"}},
		{"membership not converged", with(view("n2", 6300, "n1", "n2")), RuleMembership, []string{"n2"}},
		{"membership never seen after the last fault", with(fault("consul", 6000, 9000)), RuleMembership, nil},
		{"two instances", with(inst("app", "n2", "start", 100), inst("app", "n2", "stop", 400)), RuleTwoInstances, []string{"app@n1", "app@n2"}},
		{"paused instance stopped within the handover after resume", paused(2100), "", nil},
		{"paused instance not stopped after resume", paused(2500), RuleTwoInstances, []string{"b@n2", "b@n4"}},
		{"volatile task lost with its queue's node, killed", with(volatile("v1", "app", 4500)), "", nil},
		{"volatile task lost with its queue's instance, stopped", with(volatile("v1", "app", 5650)), "", nil},
		{"volatile task lost, its queue's instance ended after the window", with(volatile("v1", "app", 3900)), RuleTaskLost, []string{"v1"}},
		{"volatile task lost, no instance of its queue ended", with(volatile("v1", "app", 1000)), RuleTaskLost, []string{"v1"}},
		{"volatile task lost, another application's instance ended", with(volatile("v1", "other", 4500)), RuleTaskLost, []string{"v1"}},
		{"durable task lost, its node killed", with(keyed(op("t9", OpTask, 4490, 4500, 9000, OutcomeOK, ""), "T9")), RuleTaskLost, []string{"t9"}},
		{"too many goroutines", with(sample("n2", 10, 1001, 1)), RuleResources, []string{"n2"}},
		{"heap over the cap", with(sample("n2", 10, 1, 2<<30)), RuleResources, []string{"n2"}},
		{"goroutines grow", with(sample("n1", 8, 200, 1e6), sample("n1", 9, 200, 1e6)), RuleResources, []string{"n1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs, s := Check(c.recs, cfg)
			if c.rule == "" {
				if len(vs) != 0 {
					t.Fatalf("violations: %v", vs)
				}
				return
			}
			var hit *Violation
			for i, v := range vs {
				if v.Rule != c.rule {
					t.Errorf("unexpected violation: %v", v)
				} else {
					hit = &vs[i]
				}
			}
			if hit == nil {
				t.Fatalf("no %s violation in %v", c.rule, vs)
			}
			if c.ops != nil && !slices.Equal(hit.Ops, c.ops) {
				t.Errorf("violation names %v, want %v", hit.Ops, c.ops)
			}
			if s.Violations != len(vs) {
				t.Errorf("summary counts %d violations, want %d", s.Violations, len(vs))
			}
		})
	}
}

func TestSummary(t *testing.T) {
	recs := good()
	recs = append(recs,
		op("x1", OpRequest, 1000, 1010, 2000, OutcomeOK, ""),
		op("x2", OpRequest, 1100, 1200, 2000, OutcomeError, "ErrNodeDown"),
		op("x3", OpRequest, 1300, 1400, 2000, OutcomeError, "ErrNodeDown"),
		op("x4", OpRequest, 1900, 1910, 2000, OutcomeOK, ""),
		op("x5", OpRequest, 3100, 3400, 5000, OutcomeOK, ""), // during the pause: 300 ms
	)
	_, s := Check(recs, cfg)
	if c := s.Ops[OpRequest]; c != (OpCount{Total: 7, OK: 4, Failed: 3}) {
		t.Errorf("requests %+v", c)
	}
	if _, st := Check(with(fault(FaultStall, 10, 1210, "n1"), fault(FaultStall, 20, 30, "n2")), cfg); st.Stalls != 2 || st.LongestStall != 1200*time.Millisecond || st.Faults[FaultStall] != 0 {
		t.Errorf("stalls %d, longest %v, faults %v", st.Stalls, st.LongestStall, st.Faults)
	}
	if s.Faults[FaultPause] != 1 || s.Faults[FaultKill] != 1 {
		t.Errorf("faults %v", s.Faults)
	}
	if s.Failures["ErrNodeDown"] != 2 || s.Failures["ErrTimeout"] != 1 {
		t.Errorf("failures %v", s.Failures)
	}
	if s.Outage["ex"] != 800*time.Millisecond { // x2 invoked at 1100, x4 at 1900
		t.Errorf("outage %v", s.Outage)
	}
	if s.P99Fault != 300*time.Millisecond || s.P99Calm != 10*time.Millisecond {
		t.Errorf("p99 %v during faults, %v outside", s.P99Fault, s.P99Calm)
	}
	if _, vs := Check(with(volatile("v1", "app", 4500)), cfg); vs.VolatileLost != 1 {
		t.Errorf("volatile tasks lost %d, want 1", vs.VolatileLost)
	}
	if e := s.Exchange["ex"]; e.Total < 7 || e.Failed < 3 {
		t.Errorf("operations on ex %+v", e)
	}
	if _, ms := Check(with(hubPub("e4", 2000), inst("hub", "n5", "start", 2100), op("late", OpRequest, 9000, 9010, 9100, OutcomeOK, "")), cfg); ms.CalmMoves != 1 {
		t.Errorf("instances moved with no fault near %d, want 1", ms.CalmMoves)
	}
	if s.Gaps != 1 {
		t.Errorf("gaps %d, want 1", s.Gaps)
	}
	if s.Starts["app"] != 4 {
		t.Errorf("instance starts %v, want app: 4", s.Starts)
	}
	var b bytes.Buffer
	s.Print(&b)
	for _, want := range []string{"request", "ErrNodeDown", "pause", "800ms", "violations: 0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

func TestReadWrite(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, r := range good() {
		w.Add(r)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := good()
	if len(got) != len(want) {
		t.Fatalf("read %d records, wrote %d", len(got), len(want))
	}
	for i := range got {
		if !got[i].Invoke.Equal(want[i].Invoke) || got[i].ID != want[i].ID || !slices.Equal(got[i].Nodes, want[i].Nodes) {
			t.Fatalf("record %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"{", `{"type":"nope"}`, `{"type":"op"}`, strings.Repeat("x", MaxLine+1)} {
		if _, err := Read(strings.NewReader(bad + "\n")); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%.20q: %v, want ErrBadRecord", bad, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, r := range good() {
		w.Add(r)
	}
	_ = w.Flush()
	f.Add(b.Bytes())
	f.Add([]byte(`{"type":"op","id":"x","kind":"request","invoke":"bad"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := Read(bytes.NewReader(data))
		if err != nil && !errors.Is(err, ErrBadRecord) {
			t.Fatalf("untyped error %v", err)
		}
		Check(recs, cfg) // never panics on what Read accepts
	})
}
