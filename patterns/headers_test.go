package patterns

import (
	"context"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

// TestHeadersTravelFromClientThroughExchangeToController: a client on a
// sets headers, middleware on the exchange's node b reads them and adds
// one, and the controller on c sees all of them; in one node too, where
// the client's map is left as it was.
func TestHeadersTravelFromClientThroughExchangeToController(t *testing.T) {
	seen := make(chan string, 2)
	spec := exchange.Spec{Name: "h", Strategy: exchange.RoundRobin, Middleware: []exchange.Middleware{
		func(r *exchange.Request, next func(*exchange.Request) error) error {
			seen <- r.Header("trace")
			r.SetHeader("hop", "exchange")
			return next(r)
		},
	}}
	echo := func(_ context.Context, r *exchange.Request) (any, error) {
		var kv []string
		for k, v := range r.Headers {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		return wrapperspb.String(strings.Join(kv, ",")), nil
	}
	tc := switchboardtest.NewCluster(t, 3)
	ex := tc.StartExchange(1, spec)
	tc.StartController(2, ex, NewController(ex, echo))

	got := call(t, NewClient(tc.Node(0)), ex, "x", WithHeader("trace", "t1"), WithHeaders(map[string]string{"k": "v"}))
	if got != "hop=exchange,k=v,trace=t1" {
		t.Fatalf("across nodes the controller saw headers %q", got)
	}
	if s := <-seen; s != "t1" {
		t.Fatalf("the exchange's middleware saw trace %q", s)
	}

	// One node: the request is not encoded, the middleware's header goes
	// into a copy.
	n := node(t, "one@localhost", false)
	startExchange(t, n, spec)
	one := exchange.At(n.Address(), "h")
	c := NewController(one, echo)
	events := make(chan any, 10)
	c.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	if _, err := n.Spawn(ctxT(t), c); err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events) // it has joined
	h := map[string]string{"trace": "t2"}
	out := call(t, NewClient(n), one, "x", WithHeaders(h))
	if out != "hop=exchange,trace=t2" || len(h) != 1 {
		t.Fatalf("in one node the controller saw %q, the client's map is %v", out, h)
	}
	if s := <-seen; s != "t2" {
		t.Fatalf("the exchange's middleware saw trace %q", s)
	}
}
