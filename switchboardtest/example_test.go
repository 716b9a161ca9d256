package switchboardtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

// A three-node cluster: an exchange on the first node, its controller on
// the second, a client on the third. In a test of yours, the body of test
// is your test function's, with your t.
func ExampleNewCluster() {
	test(func(t testing.TB) { // func TestGreet(t *testing.T) {
		c := switchboardtest.NewCluster(t, 3)
		ex := c.StartExchange(0, exchange.Spec{Name: "greet", Strategy: exchange.RoundRobin})
		c.StartController(1, ex, patterns.NewController(ex, func(_ context.Context, req *exchange.Request) (any, error) {
			return wrapperspb.String("hello, " + req.Msg.(*wrapperspb.StringValue).GetValue()), nil
		}))

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reply, err := patterns.CallAs[*wrapperspb.StringValue](ctx, patterns.NewClient(c.Node(2)), ex, wrapperspb.String(c.Node(2).Name()))
		fmt.Println(reply.GetValue(), err)
	})
	// Output: hello, n3@localhost <nil>
}

// A probe as a subscriber: what it receives, in order, and proof that
// nothing else came.
func ExampleProbe() {
	test(func(t testing.TB) {
		c := switchboardtest.NewCluster(t, 2)
		ex := c.StartPubSub(0, pubsub.Spec{Name: "events"})
		probe := switchboardtest.NewProbe(t, c.Node(1))

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := patterns.Subscribe(ctx, c.Node(1), ex, "orders.#", "", probe.PID()); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		for _, key := range []string{"orders.new", "stock.low", "orders.paid"} {
			if err := patterns.Publish(ctx, c.Node(0), ex, key, wrapperspb.String(key)); err != nil {
				t.Fatalf("publish: %v", err)
			}
		}
		fmt.Println(switchboardtest.Expect[*pubsub.Message](t, probe, 0).Key)
		fmt.Println(switchboardtest.Expect[*pubsub.Message](t, probe, 0).Key) // not stock.low, which would have come first
		switchboardtest.ExpectNothing(t, probe, 0, c.Node(0))                 // nothing else from the exchange's node
	})
	// Output:
	// orders.new
	// orders.paid
}

// Failover is tested by stopping or killing a node: the others see it go.
func ExampleCluster_Kill() {
	test(func(t testing.TB) {
		c := switchboardtest.NewCluster(t, 3)
		probe := switchboardtest.NewProbe(t, c.Node(0))
		c.Cluster(0).MonitorNodes(probe.PID())

		c.Kill(2)
		ev := switchboardtest.Expect[cluster.Event](t, probe, 0)
		fmt.Println(ev.Kind, ev.Member.Name)

		c.Restart(2)
		ev = switchboardtest.Expect[cluster.Event](t, probe, 0)
		fmt.Println(ev.Kind, ev.Member.Name)
	})
	// Output:
	// nodedown n3@localhost
	// nodeup n3@localhost
}
