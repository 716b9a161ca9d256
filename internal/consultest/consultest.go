package consultest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// Agent is a running Consul dev agent.
type Agent struct {
	// Addr is the HTTP API address, host:port.
	Addr string
	// Client talks to the agent.
	Client *api.Client

	t     testing.TB
	bin   string
	ports ports
	mu    sync.Mutex
	cmd   *exec.Cmd
	out   *bytes.Buffer
	exit  chan struct{}
}

type ports struct{ http, serfLAN, serfWAN, server int }

// Binary returns the path of the consul binary, or an error saying how to
// build it.
func Binary() (string, error) {
	if p := os.Getenv("SWITCHBOARD_CONSUL"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err == nil {
				p := filepath.Join(dir, "bin", "consul")
				if _, err := os.Stat(p); err != nil {
					return "", fmt.Errorf("consultest: %s missing: run scripts/consul.sh (or make test)", p)
				}
				return p, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("consultest: repository root not found; set SWITCHBOARD_CONSUL")
		}
		dir = parent
	}
}

// Start starts an agent and waits until it has elected itself leader and
// registered its own serfHealth check (sessions need it).
func Start(t testing.TB) *Agent {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{t: t, bin: bin}
	t.Cleanup(a.Stop)
	// A port found free can be taken (by another test's dial, say) before
	// Consul binds it: then try again with other ports.
	for attempt := 1; ; attempt++ {
		free, err := freePorts(4)
		if err != nil {
			t.Fatal(err)
		}
		a.ports = ports{free[0], free[1], free[2], free[3]}
		a.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.http))
		cfg := api.DefaultConfig()
		cfg.Address = a.Addr
		if a.Client, err = api.NewClient(cfg); err != nil {
			t.Fatal(err)
		}
		err = a.start()
		if err == nil {
			return a
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			t.Fatal(err)
		}
	}
}

var errPortTaken = errors.New("consultest: a port was taken")

// start runs the agent on a.ports and waits for its leader.
func (a *Agent) start() error {
	p := a.ports
	cmd := exec.Command(a.bin, "agent", "-dev",
		"-bind=127.0.0.1", "-client=127.0.0.1", "-node=switchboard-test",
		"-http-port="+strconv.Itoa(p.http), "-dns-port=-1", "-grpc-port=-1", "-grpc-tls-port=-1",
		"-serf-lan-port="+strconv.Itoa(p.serfLAN), "-serf-wan-port="+strconv.Itoa(p.serfWAN),
		"-server-port="+strconv.Itoa(p.server), "-log-level=warn")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("consultest: start %s: %w", a.bin, err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exit) }()
	a.mu.Lock()
	a.cmd, a.out, a.exit = cmd, out, exit
	a.mu.Unlock()

	deadline := time.Now().Add(30 * time.Second)
	for {
		if a.ready() {
			return nil
		}
		select {
		case <-exit:
			a.mu.Lock()
			a.cmd = nil
			a.mu.Unlock()
			if strings.Contains(out.String(), "address already in use") {
				return fmt.Errorf("%w:\n%s", errPortTaken, out.String())
			}
			return fmt.Errorf("consultest: consul exited during start:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			a.Stop()
			return fmt.Errorf("consultest: consul not ready after 30s:\n%s", out.String())
		}
	}
}

// PID returns the agent's process id, 0 if it is not running (to read its
// CPU time and memory from /proc).
func (a *Agent) PID() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil {
		return 0
	}
	return a.cmd.Process.Pid
}

// Stop stops the agent (SIGTERM, then SIGKILL after 5 s) and waits for it.
// Stopping a stopped agent does nothing.
func (a *Agent) Stop() {
	a.mu.Lock()
	cmd, exit := a.cmd, a.exit
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exit:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exit
	}
}

// Restart stops the agent and starts it again on the same ports (a dev
// agent starts empty: registrations and KV are gone, as after a crash).
func (a *Agent) Restart() {
	a.t.Helper()
	a.Stop()
	var err error
	for attempt := 0; attempt < 20; attempt++ { // the same ports: wait for a taker to let go
		if err = a.start(); err == nil || !errors.Is(err, errPortTaken) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		a.t.Fatal(err)
	}
}

// freePorts returns n TCP ports that were free a moment ago, also free for
// UDP (Serf uses both).
func freePorts(n int) ([]int, error) {
	var out []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		_ = u.Close()
		out = append(out, port)
	}
	return out, nil
}

// WaitFor polls cond every 20 ms until it holds or ctx ends.
func WaitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// ready reports whether the agent has a leader and its own node's
// serfHealth check is registered: the leader registers it shortly after
// its election, and a session (bound to that check by default) cannot be
// created before.
func (a *Agent) ready() bool {
	if leader, err := a.Client.Status().Leader(); err != nil || leader == "" {
		return false
	}
	name, err := a.Client.Agent().NodeName()
	if err != nil {
		return false
	}
	checks, _, err := a.Client.Health().Node(name, nil)
	if err != nil {
		return false
	}
	for _, c := range checks {
		if c.CheckID == "serfHealth" && c.Status == "passing" {
			return true
		}
	}
	return false
}
