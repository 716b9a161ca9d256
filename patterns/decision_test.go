package patterns

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
)

// A Func strategy's bad decision sends the request nowhere: the client
// gets ErrBadDecision (not ErrRejected), from the exchange's node and from
// another, by Call and by CallAll, and the exchange counts it.
func TestFuncBadDecisionReachesClient(t *testing.T) {
	a, b := node(t, "a@localhost", true), node(t, "b@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "other", Strategy: exchange.RoundRobin})
	stranger, _ := ctrl(t, b, exchange.Named("other"), "stranger", "", "")
	startExchange(t, b, exchange.Spec{Name: "f", Strategy: exchange.Func,
		Route: func(r *exchange.Request, ms []exchange.Member) exchange.Decision {
			switch str(r.Msg) {
			case "both":
				return exchange.Decision{Targets: ms, Redirect: "other"}
			case "stranger": // a controller of another exchange
				return exchange.Decision{Targets: []exchange.Member{{PID: stranger}}}
			}
			return exchange.Decision{Targets: ms}
		}})
	ctrl(t, b, exchange.Named("f"), "member", "", "")
	local, remote := NewClient(b), NewClient(a)
	ex := exchange.At(b.Address(), "f")
	for _, tc := range []struct {
		from string
		cl   *Client
	}{{"the exchange's node", local}, {"another node", remote}} {
		for _, msg := range []string{"both", "stranger"} {
			v, err := tc.cl.Call(ctxT(t), ex, wrapperspb.String(msg))
			if !errors.Is(err, exchange.ErrBadDecision) || errors.Is(err, exchange.ErrRejected) {
				t.Fatalf("%q from %s = %v, %v; want ErrBadDecision", msg, tc.from, str(v), err)
			}
		}
	}
	if _, err := remote.CallAll(ctxT(t), ex, wrapperspb.String("both")); !errors.Is(err, exchange.ErrBadDecision) {
		t.Fatalf("CallAll of a bad decision = %v; want ErrBadDecision", err)
	}
	if got := call(t, remote, ex, "hi"); got != "member" {
		t.Fatalf("a good decision reached %s", got)
	}
	info, err := exchange.Inspect(ctxT(t), b, exchange.Named("f"))
	if err != nil || info.Stats.BadDecisions != 5 || info.Stats.Rejected != 5 || info.Stats.Routed != 1 {
		t.Fatalf("stats %+v, %v; want 5 bad decisions (counted as rejected) and 1 routed", info.Stats, err)
	}
}
