package switchboardtest_test

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

// The test of the package's documentation, as it is written there.
func TestGreet(t *testing.T) {
	c := switchboardtest.NewCluster(t, 3)
	ex := c.StartExchange(0, exchange.Spec{Name: "greet", Strategy: exchange.RoundRobin})
	c.StartController(1, ex, patterns.NewController(ex, greet))

	reply, err := patterns.NewClient(c.Node(2)).Call(t.Context(), ex, wrapperspb.String("n3"))
	if err != nil || reply.(*wrapperspb.StringValue).GetValue() != "hello, n3" {
		t.Fatalf("reply %v, %v", reply, err)
	}
}

func greet(_ context.Context, req *exchange.Request) (any, error) {
	return wrapperspb.String("hello, " + req.Msg.(*wrapperspb.StringValue).GetValue()), nil
}
