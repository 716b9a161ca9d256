package patterns

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// behaviour is what a client on another node and the controllers can
// observe of an exchange's strategy. Each of the seven strategies has its
// own (TestSevenStrategiesAcrossNodes checks that they differ), so an
// exchange that routed by another strategy than its own would be caught.
type behaviour struct {
	leader  string // the leader named in every controller's Leader event and by Inspect; "" for none
	replies int    // replies to one CallAll
	spread  string // how 9 calls without a routing key spread: sorted counts, e.g. "3,3,3"
	sticky  bool   // each routing key, sent 3 times, reaches one controller
	fanned  bool   // 9 different routing keys reach more than one controller
	rejects bool   // the routing key "reject" is refused with ErrRejected
}

// observe runs the probes of behaviour against an exchange on node b with
// controllers b1 (on b), c1 and c2 (on c), joined in that order, and a
// client on node a.
func observe(t *testing.T, spec exchange.Spec) behaviour {
	a, b, c := node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	startExchange(t, b, spec)
	ex := exchange.At(b.Address(), spec.Name)
	names := map[string]string{}
	var joins []*exchange.Leader // the Leader event each controller got when it joined
	for _, m := range []struct {
		n    *actor.Node
		name string
	}{{b, "b1"}, {c, "c1"}, {c, "c2"}} {
		pid, l := joined(t, m.n, ex, m.name)
		names[actor.FormatPID(pid)] = m.name
		joins = append(joins, l)
	}
	var got behaviour
	// The leader, as each controller heard it when it joined, and as the
	// exchange reports it (the leader never changes here).
	leaders := map[string]bool{}
	for _, l := range joins {
		leaders[names[actor.FormatPID(l.Leader)]] = true
	}
	info, err := exchange.Inspect(ctxT(t), b, ex)
	if err != nil {
		t.Fatal(err)
	}
	leaders[names[actor.FormatPID(info.Leader)]] = true
	if len(leaders) != 1 {
		t.Fatalf("controllers and exchange disagree on the leader: %v", leaders)
	}
	for l := range leaders {
		got.leader = l
	}

	cl := NewClient(a)
	replies, err := cl.CallAll(ctxT(t), ex, wrapperspb.String("hi"))
	if err != nil {
		t.Fatal(err)
	}
	got.replies = len(replies)
	if got.replies != 1 {
		return got // a broadcast: which reply Call gets first is a race
	}

	count := map[string]int{}
	for range 9 {
		count[call(t, cl, ex, "hi")]++
	}
	var counts []string
	for _, c := range count {
		counts = append(counts, fmt.Sprint(c))
	}
	slices.Sort(counts)
	got.spread = strings.Join(counts, ",")

	got.sticky = true
	for i := range 3 {
		key := fmt.Sprintf("user-%d", i)
		first := call(t, cl, ex, "hi", WithRoutingKey(key))
		for range 2 {
			if call(t, cl, ex, "hi", WithRoutingKey(key)) != first {
				got.sticky = false
			}
		}
	}
	reached := map[string]bool{}
	for i := range 9 {
		reached[call(t, cl, ex, "hi", WithRoutingKey(fmt.Sprintf("key-%d", i)))] = true
	}
	got.fanned = len(reached) > 1

	_, err = cl.Call(ctxT(t), ex, wrapperspb.String("hi"), WithRoutingKey("reject"))
	got.rejects = errors.Is(err, exchange.ErrRejected)
	if err != nil && !got.rejects {
		t.Fatalf("routing key reject: %v", err)
	}
	return got
}

// joined starts a controller of ex on n and returns it with the Leader
// event it got on joining.
func joined(t *testing.T, n *actor.Node, ex exchange.Address, name string) (*actor.PID, *exchange.Leader) {
	t.Helper()
	events := make(chan any, 100)
	c := NewController(ex, answer(name))
	c.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	pid, err := n.Spawn(ctxT(t), c)
	if err != nil {
		t.Fatal(err)
	}
	l := waitEvent[*exchange.Leader](t, events)
	if l.Exchange != ex.Name {
		t.Fatalf("%s joined %q, not %q", name, l.Exchange, ex.Name)
	}
	return pid, l
}

func TestSevenStrategiesAcrossNodes(t *testing.T) {
	// Every spec carries a hash and a route, so that any strategy could
	// run with it: the hash sends every request to the third member, the
	// route sends it to the last one or rejects the key "reject".
	hash := func(*exchange.Request) uint64 { return 2 }
	route := func(r *exchange.Request, ms []exchange.Member) exchange.Decision {
		if r.RoutingKey == "reject" {
			return exchange.Decision{Reject: errors.New("not this key")}
		}
		return exchange.Decision{Targets: ms[len(ms)-1:]}
	}
	want := map[exchange.Strategy]behaviour{
		exchange.Broadcast:        {replies: 3},
		exchange.RoundRobin:       {replies: 1, spread: "3,3,3", fanned: true},
		exchange.LeaderOnly:       {leader: "b1", replies: 1, spread: "9", sticky: true},
		exchange.LeaderRoundRobin: {leader: "b1", replies: 1, spread: "3,3,3", fanned: true},
		exchange.Sticky:           {replies: 1, spread: "9", sticky: true, fanned: true},
		exchange.StickyFunc:       {replies: 1, spread: "9", sticky: true},
		exchange.Func:             {replies: 1, spread: "9", sticky: true, rejects: true},
	}
	// The test proves something only if no two strategies look alike.
	for s1, b1 := range want {
		for s2, b2 := range want {
			if s1 != s2 && b1 == b2 {
				t.Fatalf("%v and %v would look alike: %+v", s1, s2, b1)
			}
		}
	}
	for s := exchange.Broadcast; s <= exchange.Func; s++ {
		t.Run(s.String(), func(t *testing.T) {
			got := observe(t, exchange.Spec{Name: "x", Strategy: s, Hash: hash, Route: route})
			if got != want[s] {
				t.Fatalf("%v behaves as\n%+v\nwant\n%+v", s, got, want[s])
			}
			if s.AppointsLeader() != (got.leader != "") {
				t.Fatalf("%v: AppointsLeader() = %v, leader %q", s, s.AppointsLeader(), got.leader)
			}
		})
	}
}
