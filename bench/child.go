package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// child is one OS process of the benchmark: this binary in a role, or a
// server the harness starts (nats-server).
type child struct {
	role  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // stdout, line by line; closed when the process ends
	tail  *tailBuffer // the end of its stderr, for error reports
	done  chan struct{}
	// interrupt: a server that does not read its stdin (nats-server),
	// stopped with SIGINT.
	interrupt bool
}

// startRole starts the harness's binary in role with env added, and waits
// for its READY line; it returns what followed READY.
func (h *harness) startRole(role string, env map[string]string, wait time.Duration) (*child, string, error) {
	cmd := exec.Command(h.cfg.Exe, h.cfg.ExeArgs...)
	cmd.Env = append(os.Environ(), envRole+"="+role)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c, err := startChild(role, cmd)
	if err != nil {
		return nil, "", err
	}
	select {
	case l, ok := <-c.lines:
		switch {
		case ok && (l == "READY" || strings.HasPrefix(l, "READY ")):
			return c, strings.TrimPrefix(strings.TrimPrefix(l, "READY"), " "), nil
		case ok && strings.HasPrefix(l, "ERR "):
			c.stop()
			return nil, "", fmt.Errorf("%s: %s", role, strings.TrimPrefix(l, "ERR "))
		default:
			c.stop()
			return nil, "", fmt.Errorf("%s: said %q before READY%s", role, l, c.tail.report())
		}
	case <-time.After(wait):
		c.stop()
		return nil, "", fmt.Errorf("%s: not ready after %v%s", role, wait, c.tail.report())
	}
}

func startChild(role string, cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = procAttr()
	c := &child{role: role, cmd: cmd, lines: make(chan string, 16), tail: &tailBuffer{max: 4096}, done: make(chan struct{})}
	cmd.Stderr = c.tail
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Our own pipe, not StdoutPipe: Wait would close that one as soon as
	// the child exits, losing a line still unread in it (an ERR just before
	// exiting). This one ends when the child's end closes.
	out, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = w
	err = cmd.Start()
	_ = w.Close() // the child has its copy
	if err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	c.stdin = in
	go func() {
		defer close(c.lines)
		defer out.Close()
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	go func() { _ = cmd.Wait(); close(c.done) }()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// run sends one shape to a client and returns its outcome.
func (c *child) run(s Shape, wait time.Duration) (Outcome, error) {
	b, _ := json.Marshal(s)
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		return Outcome{}, fmt.Errorf("client process: %w%s", err, c.tail.report())
	}
	select {
	case l, ok := <-c.lines:
		if !ok {
			<-c.done
			return Outcome{}, fmt.Errorf("client process exited (%v)%s", c.cmd.ProcessState, c.tail.report())
		}
		var o Outcome
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			return Outcome{}, fmt.Errorf("client process said %q", l)
		}
		return o, nil
	case <-time.After(wait):
		return Outcome{}, errors.New("client process did not answer in time")
	}
}

// stop closes the child's stdin, which ends every role, and kills it if
// it has not exited within ten seconds.
func (c *child) stop() {
	if c.interrupt {
		c.terminate()
		return
	}
	_ = c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// terminate stops a server that does not read its stdin (nats-server).
func (c *child) terminate() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// report is ": <stderr>" when the child wrote any, for error messages.
func (t *tailBuffer) report() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	return "; its stderr: " + oneLine(s)
}
