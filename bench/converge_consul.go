package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// consulAgent is a Consul dev agent the convergence benchmark runs for its
// consul runs when it is given a binary and no address: its own ports on
// loopback, its own data directory, dying with the harness (procAttr).
type consulAgent struct {
	addr string // HTTP, host:port
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// startConsulAgent starts bin as "consul agent -dev" and returns once it
// has a leader, or an error with the end of its log after wait.
func startConsulAgent(bin string, wait time.Duration) (*consulAgent, error) {
	dir, err := os.MkdirTemp("", "seedbench-consul-")
	if err != nil {
		return nil, err
	}
	var ports [4]int // http, server, serf LAN, serf WAN
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	log, err := os.Create(filepath.Join(dir, "consul.log"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	defer log.Close()
	a := &consulAgent{addr: "127.0.0.1:" + strconv.Itoa(ports[0]), dir: dir, done: make(chan struct{})}
	a.cmd = exec.Command(bin, "agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-data-dir", filepath.Join(dir, "data"), "-http-port", strconv.Itoa(ports[0]),
		"-server-port", strconv.Itoa(ports[1]), "-serf-lan-port", strconv.Itoa(ports[2]),
		"-serf-wan-port", strconv.Itoa(ports[3]), "-grpc-port", "-1", "-dns-port", "-1")
	a.cmd.Stdout, a.cmd.Stderr = log, log
	a.cmd.SysProcAttr = procAttr()
	if err := a.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("consul agent: %w", err)
	}
	go func() { _ = a.cmd.Wait(); close(a.done) }()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		if a.hasLeader(ctx) {
			return a, nil
		}
		select {
		case <-a.done:
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
			continue
		}
		tail := a.logTail()
		a.stop()
		return nil, fmt.Errorf("consul agent at %s: no leader within %v: %s", a.addr, wait, tail)
	}
}

// hasLeader asks the agent whether its (one-server) cluster has a leader.
func (a *consulAgent) hasLeader(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.addr+"/v1/status/leader", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var b [128]byte
	n, _ := resp.Body.Read(b[:])
	return resp.StatusCode == http.StatusOK && strings.Contains(string(b[:n]), ":")
}

func (a *consulAgent) logTail() string {
	b, err := os.ReadFile(filepath.Join(a.dir, "consul.log"))
	if err != nil {
		return err.Error()
	}
	if len(b) > 800 {
		b = b[len(b)-800:]
	}
	return oneLine(string(b))
}

// stop ends the agent, waits for it and removes its data.
func (a *consulAgent) stop() {
	if a.cmd.Process != nil {
		_ = a.cmd.Process.Signal(os.Interrupt)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			_ = a.cmd.Process.Kill()
			<-a.done
		}
	}
	if err := os.RemoveAll(a.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "converge: consul agent's directory:", err)
	}
}
