package patterns

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// TestKeyedControllerNodeKilled: the node of the key's controller, an OS
// process of its own, is killed with SIGKILL while its handler holds the
// run. The exchange learns it at once and the client's retry runs on the
// next controller, long before the first try's deadline.
func TestKeyedControllerNodeKilled(t *testing.T) {
	b := node(t, "b@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	ex := exchange.At(b.Address(), "x")
	child := startChildController(t, b.Address(), "x") // hangs on "hang"
	waitMembers(t, b, ex, 1)

	const perTry = 8 * time.Second
	done := make(chan string, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*perTry)
		defer cancel()
		v, err := NewClient(node(t, "a@localhost", true)).Call(ctx, ex, wrapperspb.String("hang"), WithIdempotencyKey("k"),
			WithRetry(Retry{Attempts: 3, PerTry: perTry, Backoff: 10 * time.Millisecond}))
		done <- fmt.Sprint(str(v), " ", err)
	}()
	awaitKeys(t, b, ex, "the run on the child", func(s exchange.KeyStats) bool { return s.Runs == 1 })

	// The next controller, which answers at once.
	events := make(chan any, 10)
	local := NewController(ex, func(context.Context, *exchange.Request) (any, error) { return wrapperspb.String("local"), nil })
	local.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	if _, err := b.Spawn(ctxT(t), local); err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	got := recvWithin(t, done, "the retried call")
	if got != "local <nil>" || time.Since(start) >= perTry {
		t.Fatalf("after the kill: %q in %v; want local's reply before the first try's deadline (%v)", got, time.Since(start), perTry)
	}
	if s := awaitKeys(t, b, ex, "counters", func(exchange.KeyStats) bool { return true }); s.Runs < 2 || s.Keys != 1 {
		t.Fatalf("key stats %+v", s)
	}
}
