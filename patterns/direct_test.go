package patterns

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/wire"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

// An exchange without middleware routes a request from another node as it
// arrives, off its own goroutine: the round-robin position is the one that
// local requests move too, service groups and connection tags hold, the
// request is counted, and what it cannot route there (an empty group) is
// answered as always.
func TestAcrossNodesRoutedOnArrival(t *testing.T) {
	tc := switchboardtest.NewCluster(t, 3)
	a, b, c := tc.Node(0), tc.Node(1), tc.Node(2)
	tc.StartExchange(1, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	ex := exchange.At(b.Address(), "x")
	ctrl(t, c, ex, "c1", "", "")
	ctrl(t, c, ex, "c2", "", "")
	remote, local := NewClient(a), NewClient(b)

	var seq string
	for range 3 {
		seq += call(t, remote, ex, "hi") + call(t, local, exchange.Named("x"), "hi") + " "
	}
	if seq != "c1c2 c1c2 c1c2 " {
		t.Fatalf("remote and local requests in turn went to %q; want one rotation", seq)
	}

	ctrl(t, c, ex, "eu", "eu", "conn-7")
	for range 3 {
		if got := call(t, remote, ex, "conn", WithServiceTag("eu")); got != "eu/conn-7" {
			t.Fatalf("eu request answered by %s", got)
		}
	}
	if _, err := remote.Call(ctxT(t), ex, wrapperspb.String("hi"), WithServiceTag("asia")); !errors.Is(err, exchange.ErrNoController) {
		t.Fatalf("empty group = %v", err)
	}
	// An envelope without payload is the exchange's to refuse, not routed.
	pend := a.NewPending(ctxT(t), b.Address(), false)
	defer pend.Release()
	env := &wire.Envelope{Exchange: "x", RequestId: pend.ReplyTo().Ref(), ReplyAddress: a.Address()}
	if err := a.Forward(ex.PID(a), env, pend.ReplyTo()); err != nil {
		t.Fatal(err)
	}
	if _, err := pend.Wait(ctxT(t)); !errors.Is(err, exchange.ErrBadRequest) {
		t.Fatalf("no payload = %v", err)
	}
	info, err := exchange.Inspect(ctxT(t), b, exchange.Named("x"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Stats.Routed != 9 || info.Stats.NoController != 1 || info.Stats.Rejected != 1 {
		t.Fatalf("stats %+v; want 9 routed, 1 without controller, 1 rejected", info.Stats)
	}
}

// A controller that leaves is out of the routing of requests from other
// nodes at once: the exchange rebuilds the table they are routed by.
func TestAcrossNodesRoutedOnArrivalFollowsLeaves(t *testing.T) {
	tc := switchboardtest.NewCluster(t, 3)
	a, b, c := tc.Node(0), tc.Node(1), tc.Node(2)
	tc.StartExchange(1, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	ex := exchange.At(b.Address(), "x")
	p1, _ := ctrl(t, c, ex, "c1", "", "")
	_, ev2 := ctrl(t, c, ex, "c2", "", "")
	cl := NewClient(a)
	c.Exit(p1, errors.New("gone"))
	waitEvent[*exchange.MemberDown](t, ev2) // the exchange has dropped c1
	for range 4 {
		if got := call(t, cl, ex, "hi"); got != "c2" {
			t.Fatalf("request went to %s after c1 left", got)
		}
	}
}

// In one node too, an exchange without middleware routes a request on its
// client's goroutine (actor.Process.HandleDirect sees the client's
// Forward): the rotation, service groups and connection tags hold, the
// client's own request is not written to (a controller of another
// connection tag gets a copy), the request is counted, and what it
// cannot route there (an empty group, an expired request) is the
// exchange's goroutine's, as always.
func TestInNodeRoutedOnTheClientsGoroutine(t *testing.T) {
	n := node(t, "a@localhost", false)
	startExchange(t, n, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	ex := exchange.Named("x")
	ctrl(t, n, ex, "c1", "", "")
	ctrl(t, n, ex, "c2", "", "")
	cl := NewClient(n)
	var seq string
	for range 4 {
		seq += call(t, cl, ex, "hi")
	}
	if seq != "c1c2c1c2" {
		t.Fatalf("requests went to %q; want two rotations", seq)
	}

	ctrl(t, n, ex, "eu", "eu", "conn-7")
	var sent []*exchange.Request
	cl.Intercept = func(_ context.Context, req *exchange.Request) func(error) {
		sent = append(sent, req)
		return nil
	}
	if got := call(t, cl, ex, "conn", WithServiceTag("eu")); got != "eu/conn-7" {
		t.Fatalf("eu request answered by %s", got)
	}
	if len(sent) != 1 || sent[0].ConnTag != "" {
		t.Fatalf("the client's request was written to: %+v", sent)
	}
	cl.Intercept = nil
	if _, err := cl.Call(ctxT(t), ex, wrapperspb.String("hi"), WithServiceTag("asia")); !errors.Is(err, exchange.ErrNoController) {
		t.Fatalf("empty group = %v", err)
	}

	// An expired request is not routed: nobody answers it.
	short, cancel := context.WithTimeout(ctxT(t), 50*time.Millisecond)
	defer cancel()
	pend := n.NewPending(short, n.Address(), false)
	defer pend.Release()
	req := exchange.NewRequest("x", wrapperspb.String("hi"), pend.ReplyTo(), false)
	req.Deadline = time.Now().Add(-time.Second)
	if err := req.ForwardTo(n, ex.PID(n)); err != nil {
		t.Fatal(err)
	}
	if v, err := pend.Wait(short); !errors.Is(err, actor.ErrTimeout) {
		t.Fatalf("expired request answered %v, %v", v, err)
	}

	info, err := exchange.Inspect(ctxT(t), n, ex)
	if err != nil {
		t.Fatal(err)
	}
	if info.Stats.Routed != 5 || info.Stats.NoController != 1 || info.Stats.Rejected != 0 {
		t.Fatalf("stats %+v; want 5 routed, 1 without controller", info.Stats)
	}
}
