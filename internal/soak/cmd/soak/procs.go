package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/osproc"
)

// proc is a child OS process in a process group of its own (signals go to
// the group) that dies with the driver.
type proc struct {
	name string
	*osproc.Proc
	ready <-chan string
}

func start(name, logPath string, env []string, exe string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	onLine, ready := osproc.Ready("READY")
	p, err := osproc.Start(osproc.Config{Path: exe, Args: args, Env: env, Stderr: logf, OwnGroup: true, OnLine: onLine})
	if err != nil {
		return nil, err
	}
	return &proc{name: name, Proc: p, ready: ready}, nil
}

func (p *proc) await(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if _, err := p.Await(ctx, p.ready); err != nil {
		return fmt.Errorf("%s not ready: %w", p.name, err)
	}
	return nil
}

// freePort is a free port below Linux's ephemeral range (32768–60999):
// nodes and the agent are restarted on the ports they got, and a port from
// that range (what Listen on :0 and every outgoing connection take) may
// be another test's, or a connection's, by then; one from below it is
// taken only by someone choosing it as this does.
func freePort() (int, error) {
	var err error
	for range 200 {
		port := 20000 + rand.IntN(12000)
		var l net.Listener
		if l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			_ = l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port in 20000-31999: %w", err)
}

// tail is the end of the log at path, for an error that says why a
// process ended.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// consul is the agent, restarted on the same ports.
type consul struct {
	bin, log string
	ports    [4]int // http, serf LAN, serf WAN, server
	p        *proc
}

func (c *consul) addr() string { return "127.0.0.1:" + strconv.Itoa(c.ports[0]) }

func (c *consul) start() error {
	p, err := start("consul", c.log, nil, c.bin, "agent", "-dev", "-bind=127.0.0.1", "-client=127.0.0.1", "-node=soak",
		"-http-port="+strconv.Itoa(c.ports[0]), "-dns-port=-1", "-grpc-port=-1", "-grpc-tls-port=-1",
		"-serf-lan-port="+strconv.Itoa(c.ports[1]), "-serf-wan-port="+strconv.Itoa(c.ports[2]),
		"-server-port="+strconv.Itoa(c.ports[3]), "-log-level=warn")
	if err != nil {
		return err
	}
	c.p = p
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+c.addr()+"/v1/status/leader", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && len(strings.Trim(string(b), "\" \n")) > 0 {
				return nil
			}
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("consul exited (see %s)", c.log)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("consul not up within 30s (see %s)", c.log)
}
