package childtest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Child is a child process of the test.
type Child struct {
	// Name names the child in failures.
	Name string
	// Cmd is the running command (to send it a signal, say).
	Cmd *exec.Cmd

	stdin io.Closer
	lines chan string
	exit  chan struct{}
}

// Start starts the test binary again, running no test, with env added to
// the test's environment. The child is killed at the test's cleanup if it
// still runs, and with the test process if that dies first (Linux).
func Start(t testing.TB, name string, env ...string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = procAttr()
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
	c := &Child{Name: name, Cmd: cmd, stdin: stdin, lines: make(chan string, 1024), exit: make(chan struct{})}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			c.lines <- s.Text()
		}
		close(c.lines)
	}()
	go func() { _ = cmd.Wait(); close(c.exit) }()
	t.Cleanup(c.Kill)
	return c
}

// Lines are the child's stdout lines, closed when it exits; Expect reads
// from them too.
func (c *Child) Lines() <-chan string { return c.lines }

// Expect waits up to d for the next line starting with prefix, skipping
// others, and returns it. A line starting with ERR, or the child's exit,
// fails the test.
func (c *Child) Expect(t testing.TB, d time.Duration, prefix string) string {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("child %s exited before %q", c.Name, prefix)
			}
			if strings.HasPrefix(l, "ERR") {
				t.Fatalf("child %s: %s", c.Name, l)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline.C:
			t.Fatalf("child %s did not say %q within %v", c.Name, prefix, d)
		}
	}
}

// CloseStdin tells the child to stop, without waiting.
func (c *Child) CloseStdin() { _ = c.stdin.Close() }

// Stop closes the child's stdin and waits up to d for it to exit.
func (c *Child) Stop(t testing.TB, d time.Duration) {
	t.Helper()
	c.CloseStdin()
	select {
	case <-c.exit:
	case <-time.After(d):
		t.Fatalf("child %s did not exit within %v", c.Name, d)
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (c *Child) Kill() {
	_ = c.Cmd.Process.Kill()
	<-c.exit
}

// Exited is closed once the process has ended.
func (c *Child) Exited() <-chan struct{} { return c.exit }

// Alive reports whether the process still runs.
func (c *Child) Alive() bool {
	select {
	case <-c.exit:
		return false
	default:
		return true
	}
}
