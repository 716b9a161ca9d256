package distapp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
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

type child struct {
	name  string
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	lines chan string
	exit  chan struct{}
}

func startChild(t *testing.T, name string, env []string) *child {
	t.Helper()
	c := startChildNoWait(t, name, env)
	c.expect(t, 30*time.Second, "READY")
	return c
}

// startChildNoWait starts a child without waiting for READY.
func startChildNoWait(t *testing.T, name string, env []string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, childEnv+"="+name)...)
	cmd.SysProcAttr = childAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{name: name, cmd: cmd, stdin: stdin, lines: make(chan string, 1024), exit: make(chan struct{})}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			c.lines <- s.Text()
		}
		close(c.lines)
	}()
	go func() { _ = cmd.Wait(); close(c.exit) }()
	t.Cleanup(c.kill)
	return c
}

// expect waits for the next line starting with prefix, skipping others.
func (c *child) expect(t *testing.T, d time.Duration, prefix string) string {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("child %s exited before %q", c.name, prefix)
			}
			if strings.HasPrefix(l, "ERR") {
				t.Fatalf("child %s: %s", c.name, l)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline.C:
			t.Fatalf("child %s did not say %q within %v", c.name, prefix, d)
		}
	}
}

// stop closes the child's stdin: it stops its application, leaves the
// cluster and exits.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.stdin.Close()
	select {
	case <-c.exit:
	case <-time.After(20 * time.Second):
		t.Fatalf("child %s did not exit", c.name)
	}
}

// kill sends SIGKILL and waits for the process to end.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exit
}

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
	apps, err := supervisor.NewController(ctx, n)
	if err != nil {
		fail(err)
	}
	dc, err := distapp.NewController(n, apps)
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
