package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/patterns"
)

// A child is a node in its own OS process: the test binary started again
// with childEnv set. It joins the cluster, runs the exchange "ex-<name>"
// with a controller that answers its node name, prints what it sees on
// stdout, calls the exchanges of its peers by name once it sees them, and
// leaves cleanly when its stdin closes.
const childEnv = "SWITCHBOARD_CLUSTER_CHILD"

// startChild starts node name@test; env configures its provider; peers are
// the names whose exchanges it calls. It returns once the child is READY.
func startChild(t *testing.T, name string, env []string, peers ...string) *childtest.Child {
	t.Helper()
	c := childtest.Start(t, name, append(env, childEnv+"="+name, "SB_PEERS="+strings.Join(peers, ","))...)
	c.Expect(t, 30*time.Second, "READY ")
	return c
}

func runChildIfAsked() bool {
	name := os.Getenv(childEnv)
	if name == "" {
		return false
	}
	say, fail := childLines()
	tick, _ := time.ParseDuration(os.Getenv("SB_TICK")) // TickTime; 0: the default
	n, err := actor.Start(actor.Config{Name: name + "@test", Listen: "127.0.0.1:0", Logger: quiet(), TickTime: tick})
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Join(ctx, n, cluster.Config{Provider: providerFromEnv(), Logger: quiet()})
	if err != nil {
		fail(err)
	}
	c.OnEvent(func(ev cluster.Event) {
		word := "UP"
		if ev.Kind == cluster.NodeDown {
			word = "DOWN"
		}
		say("%s %s", word, strings.TrimSuffix(ev.Member.Name, "@test"))
	})
	if _, err := exchange.Start(ctx, n, exchange.Spec{Name: "ex-" + name}); err != nil {
		fail(err)
	}
	joined := make(chan struct{}, 1)
	ctrl := patterns.NewController(exchange.Named("ex-"+name), func(context.Context, *exchange.Request) (any, error) {
		return wrapperspb.String(name), nil
	})
	ctrl.OnEvent = func(_ *actor.Process, ev any) {
		if _, ok := ev.(*exchange.Leader); ok {
			select {
			case joined <- struct{}{}:
			default:
			}
		}
	}
	if _, err := n.Spawn(ctx, ctrl); err != nil {
		fail(err)
	}
	select {
	case <-joined:
	case <-ctx.Done():
		fail(fmt.Errorf("the controller did not join ex-%s: %w", name, ctx.Err()))
	}
	say("READY %s", n.Address())
	var calls sync.WaitGroup
	for _, peer := range strings.Split(os.Getenv("SB_PEERS"), ",") {
		if peer == "" {
			continue
		}
		calls.Add(1)
		go func() {
			defer calls.Done()
			cl := patterns.NewClient(n)
			deadline := time.Now().Add(20 * time.Second)
			for {
				cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
				v, err := cl.Call(cctx, exchange.Named("ex-"+peer), wrapperspb.String("hi"))
				ccancel()
				if err == nil {
					say("CALL ex-%s %s", peer, v.(*wrapperspb.StringValue).GetValue())
					return
				}
				if time.Now().After(deadline) {
					say("CALLERR ex-%s %v", peer, err)
					return
				}
				time.Sleep(20 * time.Millisecond) // the peer's name is not in the directory yet
			}
		}()
	}
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin (or dies)
	calls.Wait()
	lctx, lcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer lcancel()
	if err := c.Leave(lctx); err != nil {
		say("ERR leave: %v", err)
	}
	_ = n.Stop(lctx)
	os.Exit(0)
	return true
}

// providerFromEnv: Consul if SB_CONSUL is set, else embedded with SB_SEEDS.
func providerFromEnv() cluster.Provider {
	if addr := os.Getenv("SB_CONSUL"); addr != "" {
		ttl, _ := time.ParseDuration(os.Getenv("SB_TTL"))
		var log *slog.Logger // SB_LOG=debug or warn: the provider's log on stderr
		var level slog.Level
		if err := level.UnmarshalText([]byte(os.Getenv("SB_LOG"))); err == nil {
			log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
		}
		return cluster.Consul(cluster.ConsulConfig{Address: addr, Service: os.Getenv("SB_SERVICE"), TTL: ttl, Logger: log})
	}
	var seeds []string
	if s := os.Getenv("SB_SEEDS"); s != "" {
		seeds = strings.Split(s, ",")
	}
	return cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds, Interval: 100 * time.Millisecond})
}

// childLines returns what a child node writes to its parent with: say, a
// line on stdout (from any goroutine, whole), and fail, an ERR line and
// exit 1.
func childLines() (say func(format string, args ...any), fail func(error)) {
	var mu sync.Mutex
	say = func(format string, args ...any) {
		mu.Lock()
		fmt.Printf(format+"\n", args...)
		mu.Unlock()
	}
	return say, func(err error) {
		say("ERR %v", err)
		os.Exit(1)
	}
}
