package patterns

import (
	"testing"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// Orders to the leader controller of the test below.
type (
	joinSecond struct{} // join again, with a second connection
	leaveFirst struct{} // withdraw the first connection
)

// LeaderOnly sends every request to the leader even when the leader's
// connection is not the first of the member table: the leader keeps
// leading while it has a connection, so once its oldest connection leaves,
// another controller's comes first. Requests from another node are routed
// on the connection's reader goroutine (exchange/direct.go), those from
// the exchange's own node by the exchange; both must pick the leader.
func TestAcrossNodesLeaderOnlyPicksLeaderNotFirstMember(t *testing.T) {
	a, b, c := node(t, "a@localhost", true), node(t, "b@localhost", true), node(t, "c@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "x", Strategy: exchange.LeaderOnly})
	ex := exchange.At(b.Address(), "x")

	// The leader, on c, joins first with connection "first".
	events := make(chan any, 100)
	leader := NewController(ex, answer("leader"))
	leader.Membership.ConnTag = "first"
	second := exchange.Membership{Exchange: ex, ConnTag: "second"}
	leader.OnEvent = func(p *actor.Process, ev any) {
		switch ev.(type) {
		case joinSecond:
			second.Join(p)
		case leaveFirst:
			leader.Membership.Leave(p)
		}
		events <- ev
	}
	lpid, err := c.Spawn(ctxT(t), leader)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)
	// Then a follower, then the leader's second connection; then the
	// leader's first connection leaves.
	fpid, _ := ctrl(t, c, ex, "follower", "", "")
	if err := c.Send(lpid, joinSecond{}); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, b, exchange.Named("x"), 3)
	if err := c.Send(lpid, leaveFirst{}); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, b, exchange.Named("x"), 2)
	info, err := exchange.Inspect(ctxT(t), b, exchange.Named("x"))
	if err != nil || !info.Leader.Equal(lpid) || len(info.Members) != 2 ||
		!info.Members[0].PID.Equal(fpid) || !info.Members[1].PID.Equal(lpid) || info.Members[1].ConnTag != "second" {
		t.Fatalf("setup: exchange %+v, %v; want members [follower, leader/second] and the leader leading", info, err)
	}

	for _, tc := range []struct {
		from string
		cl   *Client
		ex   exchange.Address
	}{
		{"another node", NewClient(a), ex},
		{"the exchange's node", NewClient(b), exchange.Named("x")},
	} {
		for i := 0; i < 6; i++ {
			if got := call(t, tc.cl, tc.ex, "conn"); got != "leader/second" {
				t.Fatalf("request %d from %s answered by %s; want leader/second (the leader, not the first member)", i, tc.from, got)
			}
		}
	}
}
