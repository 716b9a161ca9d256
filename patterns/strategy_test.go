package patterns

import (
	"errors"
	"sort"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

func TestRoundRobinSpreadsEvenly(t *testing.T) {
	for _, s := range []exchange.Strategy{exchange.RoundRobin, exchange.LeaderRoundRobin} {
		t.Run(s.String(), func(t *testing.T) {
			n := node(t, "a@localhost", false)
			ex := exchange.Named("rr")
			startExchange(t, n, exchange.Spec{Name: "rr", Strategy: s})
			for _, name := range []string{"c1", "c2", "c3"} {
				ctrl(t, n, ex, name, "", "")
			}
			c := NewClient(n)
			count := map[string]int{}
			for i := 0; i < 30; i++ {
				count[call(t, c, ex, "hi")]++
			}
			if count["c1"] != 10 || count["c2"] != 10 || count["c3"] != 10 {
				t.Fatalf("spread %v; want 10 each", count)
			}
		})
	}
}

func TestBroadcastReturnsEveryReply(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("all")
	startExchange(t, n, exchange.Spec{Name: "all"}) // Broadcast is the default
	for _, name := range []string{"c1", "c2", "c3"} {
		ctrl(t, n, ex, name, "", "")
	}
	c := NewClient(n)
	replies, err := c.CallAll(ctxT(t), ex, wrapperspb.String("hi"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range replies {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		got = append(got, str(r.Value))
	}
	sort.Strings(got)
	if len(got) != 3 || got[0] != "c1" || got[2] != "c3" {
		t.Fatalf("replies %v", got)
	}
	if v := call(t, c, ex, "hi"); v == "?" {
		t.Fatal("Call on a broadcast exchange got no reply")
	}
}

func TestLeaderAppointmentAndReappointment(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("lead")
	startExchange(t, n, exchange.Spec{Name: "lead", Strategy: exchange.LeaderOnly})
	p1, e1 := ctrl(t, n, ex, "c1", "", "")
	p2, e2 := ctrl(t, n, ex, "c2", "", "")
	p3, e3 := ctrl(t, n, ex, "c3", "", "")
	if up := waitEvent[*exchange.MemberUp](t, e1); !up.Member.PID.Equal(p2) {
		t.Fatalf("c1 saw %v up; want c2", up.Member.PID)
	}
	c := NewClient(n)
	for i := 0; i < 5; i++ {
		if got := call(t, c, ex, "hi"); got != "c1" {
			t.Fatalf("leader-only request went to %s; want c1", got)
		}
	}
	n.Exit(p1, actor.ErrKill)
	// Both survivors learn that c1 is down and that c2 leads now.
	for _, ev := range []chan any{e2, e3} {
		if d := waitEvent[*exchange.MemberDown](t, ev); !d.Member.PID.Equal(p1) {
			t.Fatalf("member down %v; want c1", d.Member.PID)
		}
		l := waitEvent[*exchange.Leader](t, ev)
		for !l.Leader.Equal(p2) { // events before the death may still be queued
			l = waitEvent[*exchange.Leader](t, ev)
		}
		if len(l.Members) != 2 {
			t.Fatalf("members %v; want 2", l.Members)
		}
	}
	if got := call(t, c, ex, "hi"); got != "c2" {
		t.Fatalf("after the leader died, request went to %s; want c2", got)
	}
	info, err := exchange.Inspect(ctxT(t), n, ex)
	if err != nil || !info.Leader.Equal(p2) || len(info.Members) != 2 {
		t.Fatalf("inspect %+v %v", info, err)
	}
	_ = p3
}

func TestStickyKeepsSignatureWhileControllerLives(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec exchange.Spec
	}{
		{"sticky", exchange.Spec{Name: "s", Strategy: exchange.Sticky}},
		{"sticky_func", exchange.Spec{Name: "s", Strategy: exchange.StickyFunc,
			Hash: func(r *exchange.Request) uint64 { return uint64(len(r.RoutingKey)) }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := node(t, "a@localhost", false)
			ex := exchange.Named("s")
			startExchange(t, n, tc.spec)
			pids := map[string]*actor.PID{}
			for _, name := range []string{"c1", "c2", "c3"} {
				pids[name], _ = ctrl(t, n, ex, name, "", "")
			}
			c := NewClient(n)
			first := call(t, c, ex, "hi", WithRoutingKey("user-42"))
			for i := 0; i < 10; i++ {
				if got := call(t, c, ex, "hi", WithRoutingKey("user-42")); got != first {
					t.Fatalf("sticky request moved from %s to %s", first, got)
				}
			}
			down, cancel := n.Watch(pids[first])
			defer cancel()
			n.Exit(pids[first], actor.ErrKill)
			select {
			case <-down:
			case <-time.After(10 * time.Second):
				t.Fatalf("controller %s not down 10 s after its kill", first)
			}
			// Wait until the exchange has the death too (its own Down may
			// come after ours): a bounded poll of its member table.
			waitMembers(t, n, ex, 2)
			second := call(t, c, ex, "hi", WithRoutingKey("user-42"))
			if second == first {
				t.Fatal("request went to a dead controller")
			}
			for i := 0; i < 10; i++ {
				if got := call(t, c, ex, "hi", WithRoutingKey("user-42")); got != second {
					t.Fatalf("rebound request moved from %s to %s", second, got)
				}
			}
		})
	}
}

func TestFuncChoosesRedirectsRejectsRewrites(t *testing.T) {
	n := node(t, "a@localhost", false)
	startExchange(t, n, exchange.Spec{Name: "other", Strategy: exchange.RoundRobin})
	ctrl(t, n, exchange.Named("other"), "elsewhere", "", "")
	startExchange(t, n, exchange.Spec{Name: "f", Strategy: exchange.Func,
		Route: func(r *exchange.Request, ms []exchange.Member) exchange.Decision {
			switch str(r.Msg) {
			case "redirect":
				return exchange.Decision{Redirect: "other"}
			case "reject":
				return exchange.Decision{Reject: errors.New("not today")}
			case "loop":
				return exchange.Decision{Redirect: "f"}
			case "rewrite":
				r.Msg = wrapperspb.String("conn")
			}
			for _, m := range ms {
				if m.ConnTag == "pick" {
					return exchange.Decision{Targets: []exchange.Member{m}}
				}
			}
			return exchange.Decision{}
		}})
	ex := exchange.Named("f")
	ctrl(t, n, ex, "c1", "", "")
	ctrl(t, n, ex, "c2", "", "pick")
	c := NewClient(n)
	if got := call(t, c, ex, "hi"); got != "c2" {
		t.Fatalf("func chose %s; want c2", got)
	}
	if got := call(t, c, ex, "redirect"); got != "elsewhere" {
		t.Fatalf("redirect reached %s", got)
	}
	if got := call(t, c, ex, "rewrite"); got != "c2/pick" {
		t.Fatalf("rewritten request answered %s", got)
	}
	if _, err := c.Call(ctxT(t), ex, wrapperspb.String("reject")); !errors.Is(err, exchange.ErrRejected) {
		t.Fatalf("reject = %v", err)
	}
	if _, err := c.Call(ctxT(t), ex, wrapperspb.String("loop")); !errors.Is(err, exchange.ErrRedirectLoop) {
		t.Fatalf("loop = %v", err)
	}
}

func TestServiceAndConnectionTags(t *testing.T) {
	n := node(t, "a@localhost", false)
	ex := exchange.Named("tags")
	startExchange(t, n, exchange.Spec{Name: "tags", Strategy: exchange.RoundRobin})
	ctrl(t, n, ex, "eu1", "eu", "")
	ctrl(t, n, ex, "eu2", "eu", "")
	ctrl(t, n, ex, "us1", "us", "")
	c := NewClient(n)
	for i := 0; i < 6; i++ {
		if got := call(t, c, ex, "hi", WithServiceTag("us")); got != "us1" {
			t.Fatalf("us request went to %s", got)
		}
		if got := call(t, c, ex, "hi", WithServiceTag("eu")); got != "eu1" && got != "eu2" {
			t.Fatalf("eu request went to %s", got)
		}
	}
	if _, err := c.Call(ctxT(t), ex, wrapperspb.String("hi"), WithServiceTag("asia")); !errors.Is(err, exchange.ErrNoController) {
		t.Fatalf("empty group = %v", err)
	}
	// One controller, two connections: requests say which one they came through.
	ex2 := exchange.Named("conns")
	startExchange(t, n, exchange.Spec{Name: "conns", Strategy: exchange.Broadcast})
	events := make(chan any, 10)
	multi := NewController(ex2, answer("m"))
	multi.Membership.ConnTag = "orders.eu"
	multi.OnEvent = func(p *actor.Process, ev any) {
		if _, ok := ev.(*exchange.Leader); ok && multi.Membership.Leader() != nil && len(events) == 0 {
			second := exchange.Membership{Exchange: ex2, ConnTag: "orders.us"}
			second.Join(p)
		}
		events <- ev
	}
	if _, err := n.Spawn(ctxT(t), multi); err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)
	waitEvent[*exchange.Leader](t, events)
	replies, err := c.CallAll(ctxT(t), ex2, wrapperspb.String("conn"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range replies {
		got = append(got, str(r.Value))
	}
	sort.Strings(got)
	if len(got) != 2 || got[0] != "m/orders.eu" || got[1] != "m/orders.us" {
		t.Fatalf("replies %v; want one per connection tag", got)
	}
}
