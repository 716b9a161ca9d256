// Package switchboardtest is a test harness for services built on
// Switchboard: an in-process cluster of real nodes over loopback, and a
// probe process to assert on what was sent, so that you test your services
// the way Switchboard tests its own (as hashicorp/raft's MakeCluster and
// Ergo's testing/unit do for theirs).
//
// # A cluster
//
// NewCluster starts n nodes in the test's process, named n1@localhost to
// n<n>@localhost, each with a transport on 127.0.0.1 and a free port, joins
// them with the embedded membership provider (nothing to install), and
// returns once every node sees every other. Nodes count from 0: Node(0) is
// n1@localhost. Cluster(i) is node i's view of the cluster (members,
// events, directory, locks). At the end of the test, t.Cleanup makes every
// node leave the cluster and stop.
//
// The helpers start what a test needs and wait until it is in place:
// StartExchange, StartPubSub and StartTasks start an exchange on a node and
// return once every node resolves its name to that node; StartController
// spawns a controller and returns once its exchange routes to it;
// AwaitExchange waits for an exchange started some other way (by an
// application, by a failover). Stop and Kill take a node away (cleanly,
// or without leaving the cluster, as a node that dies) and return once the
// others have seen it go; Restart brings it back under its name.
//
//	func TestGreet(t *testing.T) {
//		c := switchboardtest.NewCluster(t, 3)
//		ex := c.StartExchange(0, exchange.Spec{Name: "greet", Strategy: exchange.RoundRobin})
//		c.StartController(1, ex, patterns.NewController(ex, greet))
//
//		reply, err := patterns.NewClient(c.Node(2)).Call(t.Context(), ex, wrapperspb.String("n3"))
//		if err != nil || reply.(*wrapperspb.StringValue).GetValue() != "hello, n3" {
//			t.Fatalf("reply %v, %v", reply, err)
//		}
//	}
//
// # A probe
//
// A Probe is a process that records every message it receives. Its PID
// stands in for any process: a subscriber, the reply target of
// patterns.Request, a monitor of the nodes (cluster.MonitorNodes), the
// recipient of what the code under test sends. Record adds what a callback
// reports (a controller's or a worker's OnEvent). Expect reads the next
// message, which must be of the type asked for; ExpectNothing proves that
// nothing else came, without sleeping: it sends the probe a marker from the
// nodes it is given and relies on messages from one node to a process
// arriving in the order they were sent.
//
//	probe := switchboardtest.NewProbe(t, c.Node(1))
//	patterns.Subscribe(ctx, c.Node(1), events, "orders.#", "", probe.PID())
//	patterns.Publish(ctx, c.Node(0), events, "orders.new", order)
//	msg := switchboardtest.Expect[*pubsub.Message](t, probe, 0)
//	switchboardtest.ExpectNothing(t, probe, 0, c.Node(0))
//
// # Rules
//
// Every wait is bounded: by the cluster's timeout (DefaultTimeout unless
// WithTimeout) or the timeout given to Expect, after which the test fails
// with what was missing. The cluster's methods fail the test that NewCluster
// was given, and Expect and ExpectNothing the one they are given, with
// t.Fatal: call them from that test's goroutine (make a cluster per
// subtest). Logs are discarded unless WithTestLog (to t.Log) or WithLogger.
// Each cluster has a cookie of its own unless WithCookie, and a lock
// directory of its own; the package keeps no global state, so clusters of
// parallel tests stay apart. Nothing the harness starts outlives the test:
// check your own with go.uber.org/goleak, as this package's tests do.
package switchboardtest
