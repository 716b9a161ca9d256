package distapp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/supervisor"
)

// A child is a node in its own OS process: the test binary started again
// with childEnv set to its short name. It joins the cluster (Consul if
// SB_CONSUL is set, else embedded with SB_SEEDS and SB_LOCKDIR), starts
// the application svc with the nodes [a, {b, c}] (failover timeout
// SB_TIMEOUT), records its instances in the probe file SB_PROBE, prints
// READY, then "STATUS <phase> <holder>" whenever its manager's status
// changes, and stops cleanly when its stdin closes.
const childEnv = "SB_DISTAPP_CHILD"

// startChild starts node name@test and waits until it is READY.
func startChild(t *testing.T, name string, env []string) *childtest.Child {
	t.Helper()
	c := startChildNoWait(t, name, env)
	c.Expect(t, 30*time.Second, "READY")
	return c
}

// startChildNoWait starts a child without waiting for READY.
func startChildNoWait(t *testing.T, name string, env []string) *childtest.Child {
	t.Helper()
	return childtest.Start(t, name, append(env, childEnv+"="+name)...)
}

// childStop is how long a child may take to stop its application, leave
// the cluster and exit once its stdin closes.
const childStop = 20 * time.Second

func runChildIfAsked() bool {
	name := os.Getenv(childEnv)
	if name == "" {
		return false
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Printf(format+"\n", args...)
		mu.Unlock()
	}
	fail := func(err error) {
		say("ERR %v", err)
		os.Exit(1)
	}
	node := name + "@test"
	n, err := actor.Start(actor.Config{Name: node, Listen: "127.0.0.1:0", Logger: logger()})
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cluster.Join(ctx, n, cluster.Config{Provider: providerFromEnv(), Logger: logger()})
	if err != nil {
		fail(err)
	}
	apps, err := supervisor.NewAppController(ctx, n)
	if err != nil {
		fail(err)
	}
	dc, err := distapp.NewCoordinator(n, apps)
	if err != nil {
		fail(err)
	}
	timeout, _ := time.ParseDuration(os.Getenv("SB_TIMEOUT"))
	syncTimeout, _ := time.ParseDuration(os.Getenv("SB_SYNC_TIMEOUT"))
	var mandatory []string
	for _, m := range strings.Split(os.Getenv("SB_SYNC_MANDATORY"), ",") {
		if m != "" {
			mandatory = append(mandatory, m+"@test")
		}
	}
	p := &probe{path: os.Getenv("SB_PROBE")}
	started := time.Now()
	if err := dc.Start(ctx, distapp.Spec{
		Application:     svc(p, node),
		Nodes:           abc,
		FailoverTimeout: timeout,
		Handover:        handover,
		SyncMandatory:   mandatory,
		SyncTimeout:     syncTimeout,
	}); err != nil {
		var se *distapp.SyncError
		if errors.As(err, &se) {
			say("SYNCERR %s after %v: %v", strings.Join(se.Missing, ","), time.Since(started).Round(time.Millisecond), err)
		} else {
			say("STARTERR %v", err)
		}
		_ = c.Leave(ctx)
		_ = n.Stop(ctx)
		os.Exit(0)
	}
	say("READY")
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the manager's status, as it changes
		defer wg.Done()
		var last distapp.Status
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if st, _ := dc.Status("svc"); st.Phase != last.Phase || st.Holder != last.Holder {
				say("STATUS %s %s", st.Phase, short(st.Holder))
				last = st
			} else if !st.Gone.Equal(last.Gone) {
				if !st.Gone.IsZero() {
					say("GONE %d", st.Gone.UnixNano())
				}
				last = st
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin (or dies)
	close(quit)
	wg.Wait()
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	if err := dc.StopAll(sctx); err != nil {
		say("ERR stop: %v", err)
	}
	if err := c.Leave(sctx); err != nil {
		say("ERR leave: %v", err)
	}
	_ = n.Stop(sctx)
	os.Exit(0)
	return true
}

// providerFromEnv: Consul if SB_CONSUL is set, else embedded.
func providerFromEnv() cluster.Provider {
	if addr := os.Getenv("SB_CONSUL"); addr != "" {
		ttl, _ := time.ParseDuration(os.Getenv("SB_TTL"))
		return cluster.Consul(cluster.ConsulConfig{Address: addr, Service: os.Getenv("SB_SERVICE"), TTL: ttl, Logger: logger()})
	}
	var seeds []string
	if s := os.Getenv("SB_SEEDS"); s != "" {
		seeds = strings.Split(s, ",")
	}
	return cluster.Embedded(cluster.EmbeddedConfig{Seeds: seeds, Interval: 50 * time.Millisecond, LockDir: os.Getenv("SB_LOCKDIR")})
}
