package patterns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/childtest"
)

const fenceChildEnv = "SWITCHBOARD_PATTERNS_FENCE_CHILD"

// fenceController is the child's controller: its handler appends the key
// and the attempt of each run to a file (the count of runs the test reads)
// and says it on stdout; a run it refuses as stale it says too.
type fenceController struct{ *Controller }

func (c fenceController) HandleCall(p *actor.Process, msg any) (any, error) {
	v, err := c.Controller.HandleCall(p, msg)
	if errors.Is(err, exchange.ErrStale) {
		fmt.Println("K REFUSED", err)
	}
	return v, err
}

// runFenceChildIfAsked runs the paused controller's node of
// TestKeyedControllerNodePaused when the test binary is started as that
// child.
func runFenceChildIfAsked() bool {
	v := os.Getenv(fenceChildEnv)
	if v == "" {
		return false
	}
	parts := strings.SplitN(v, ",", 3)
	addr, name, file := parts[0], parts[1], parts[2]
	serveChild(func(joined func()) actor.Server {
		c := NewController(exchange.At(addr, name), func(ctx context.Context, req *exchange.Request) (any, error) {
			a, _ := Attempt(ctx)
			f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return nil, err
			}
			_, err = fmt.Fprintf(f, "%s %d\n", req.IdempotencyKey, a)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			fmt.Println("K RAN", req.IdempotencyKey, a)
			return wrapperspb.String("child"), err
		})
		c.OnEvent = func(_ *actor.Process, ev any) {
			if _, ok := ev.(*exchange.Leader); ok {
				joined()
			}
		}
		return fenceController{c}
	})
	return true
}

// TestKeyedControllerNodePaused: the key's controller runs in an OS
// process of its own, stopped with SIGSTOP before the run reaches it and
// continued after its node was declared down (tick time 500 ms) and the
// client's retry ran the key on the next controller, well before the
// request's deadline. The continued node reads the run from its socket
// and must not start it: the handler runs once across both controllers
// (the child's file and the local counter), and the caller gets that
// run's outcome. Before the start bound, the child ran it too.
func TestKeyedControllerNodePaused(t *testing.T) {
	const tick = 500 * time.Millisecond
	e := nodeWith(t, actor.Config{Name: "e@localhost", Listen: "127.0.0.1:0", Logger: quiet(), TickTime: tick})
	startExchange(t, e, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	ex := exchange.At(e.Address(), "x")
	file := filepath.Join(t.TempDir(), "runs")
	child := startFenceChild(t, e.Address(), "x", file, "SB_TICK="+tick.String())
	waitMembers(t, e, ex, 1)

	child.Freeze(t)
	frozen := time.Now()
	const deadline = 20 * time.Second
	done := make(chan string, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		v, err := NewClient(e).Call(ctx, ex, wrapperspb.String("charge"), WithIdempotencyKey("k"),
			WithRetry(Retry{Attempts: 4, PerTry: deadline, Backoff: 10 * time.Millisecond}))
		done <- fmt.Sprint(str(v), " ", err)
	}()
	awaitKeys(t, e, ex, "the run sent to the paused node", func(s exchange.KeyStats) bool { return s.Runs == 1 })

	var local atomic.Int32
	events := make(chan any, 10)
	c := NewController(ex, func(context.Context, *exchange.Request) (any, error) {
		local.Add(1)
		return wrapperspb.String("local"), nil
	})
	c.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	if _, err := e.Spawn(ctxT(t), c); err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)

	// The paused node is declared down (tick time, plus a quarter), the
	// run fails with ErrNodeDown and the client's retry runs on the local
	// controller.
	if got := recvWithin(t, done, "the retried call"); got != "local <nil>" {
		t.Fatalf("the call: %q; want the local controller's outcome", got)
	}
	// Continue the child well past the tick time, well before the
	// request's deadline: the pause is the scenario, not a wait for it.
	pause := time.NewTimer(time.Until(frozen.Add(4 * tick)))
	<-pause.C
	if err := child.Thaw(); err != nil {
		t.Fatal(err)
	}
	line := child.Expect(t, 15*time.Second, "K ")
	paused := time.Since(frozen)
	b, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	runs := strings.Count(string(b), "\n")
	if runs+int(local.Load()) != 1 || !strings.HasPrefix(line, "K REFUSED") {
		t.Fatalf("paused %v (< deadline %v): the handler ran %d times on the paused node (%q), %d on the local one; want once in all; the child said %q",
			paused, deadline, runs, b, local.Load(), line)
	}
	if paused >= deadline {
		t.Fatalf("paused %v, not less than the deadline %v", paused, deadline)
	}
}

func startFenceChild(t *testing.T, exchangeNode, name, file string, env ...string) *childtest.Child {
	t.Helper()
	c := childtest.Start(t, "fence-controller", append(env, fenceChildEnv+"="+exchangeNode+","+name+","+file)...)
	c.Expect(t, 20*time.Second, "READY")
	return c
}
