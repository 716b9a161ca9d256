package exchange

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/wire"
)

func pid(id string) *actor.PID { return actor.NewPID("n1", id) }

func TestLeaderIsOldestConnection(t *testing.T) {
	var m members
	steps := []struct {
		do         func()
		leader     string
		changed    bool
		controller int
	}{
		{func() { m.join(Member{PID: pid("a")}) }, "a", true, 1},
		{func() { m.join(Member{PID: pid("b")}) }, "a", false, 2},
		{func() { m.join(Member{PID: pid("a"), ConnTag: "second"}) }, "a", false, 2},
		{func() { m.leave(pid("a"), "", false) }, "a", false, 2}, // a still has "second"
		{func() { m.leave(pid("a"), "", true) }, "b", true, 1},
		{func() { m.leave(pid("b"), "", true) }, "", true, 0},
	}
	for i, s := range steps {
		s.do()
		changed := m.appoint()
		got := ""
		if m.leader != nil {
			got = m.leader.Id
		}
		if got != s.leader || changed != s.changed || len(m.pids()) != s.controller {
			t.Fatalf("step %d: leader %q changed %v controllers %d; want %q %v %d", i, got, changed, len(m.pids()), s.leader, s.changed, s.controller)
		}
	}
}

func TestRouterStrategies(t *testing.T) {
	mk := func(s Strategy) (*router, *members) {
		m := &members{}
		for _, id := range []string{"a", "b", "c"} {
			m.join(Member{PID: pid(id), ServiceTag: map[string]string{"a": "x", "b": "x", "c": "y"}[id]})
		}
		m.appoint()
		spec := &Spec{Strategy: s, Hash: func(r *Request) uint64 { return 7 }}
		return newRouter(spec, m), m
	}
	ids := func(ms []Member) (out string) {
		for _, x := range ms {
			out += x.PID.Id
		}
		return out
	}
	r, _ := mk(Broadcast)
	if got, _, _ := r.route(&Request{}); ids(got) != "abc" {
		t.Fatalf("broadcast %s", ids(got))
	}
	if got, _, _ := r.route(&Request{ServiceTag: "x"}); ids(got) != "ab" {
		t.Fatalf("broadcast to x %s", ids(got))
	}
	r, _ = mk(RoundRobin)
	var seq string
	for i := 0; i < 6; i++ {
		got, _, _ := r.route(&Request{})
		seq += ids(got)
	}
	if seq != "abcabc" {
		t.Fatalf("round robin %s", seq)
	}
	r, m := mk(LeaderOnly)
	if got, _, _ := r.route(&Request{}); ids(got) != "a" {
		t.Fatalf("leader %s", ids(got))
	}
	if _, _, err := r.route(&Request{ServiceTag: "y"}); !errors.Is(err, ErrNoController) {
		t.Fatalf("leader outside group: %v", err)
	}
	r, m = mk(Sticky)
	first, _, _ := r.route(&Request{RoutingKey: "k"})
	again, _, _ := r.route(&Request{RoutingKey: "k"})
	if ids(first) != ids(again) {
		t.Fatal("sticky moved")
	}
	gone := m.leave(first[0].PID, "", true)
	r.forget(gone)
	moved, _, _ := r.route(&Request{RoutingKey: "k"})
	if ids(moved) == ids(first) || len(moved) != 1 {
		t.Fatalf("sticky after death: %s", ids(moved))
	}
	r, _ = mk(StickyFunc)
	a1, _, _ := r.route(&Request{RoutingKey: "one"})
	a2, _, _ := r.route(&Request{RoutingKey: "two"}) // same hash 7: same controller
	if ids(a1) != ids(a2) {
		t.Fatal("sticky func ignored the hash")
	}
	empty := newRouter(&Spec{Strategy: RoundRobin}, &members{})
	if _, _, err := empty.route(&Request{}); !errors.Is(err, ErrNoController) {
		t.Fatalf("no members: %v", err)
	}
}

// FuzzEnvelope decodes arbitrary bytes as a request envelope: errors, never
// panics.
func FuzzEnvelope(f *testing.F) {
	payload, _ := anypb.New(wrapperspb.String("ping"))
	for _, env := range []*wire.Envelope{
		{Exchange: "x", RequestId: 1, ReplyAddress: "a:1", Payload: payload, WantAll: true},
		{Exchange: "x", Payload: &anypb.Any{TypeUrl: "type.googleapis.com/nobody.Knows", Value: []byte{1}}},
		{},
	} {
		b, _ := proto.Marshal(env)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var env wire.Envelope
		if proto.Unmarshal(data, &env) != nil {
			return
		}
		req, ok, err := AsRequest(&env, 1024)
		if !ok || req == nil {
			t.Fatal("envelope not taken as a request")
		}
		if err == nil && req.Msg == nil {
			t.Fatal("no error and no payload")
		}
		if err != nil && !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
