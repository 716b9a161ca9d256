package childtest

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/osproc"
)

// Child is a child process of the test.
type Child struct {
	// Name names the child in failures.
	Name string
	// Cmd is the running command (to send it a signal, say).
	Cmd *exec.Cmd

	p     *osproc.Proc
	lines chan string
	gone  chan struct{} // closed by Kill: lines nobody will read are dropped
	once  sync.Once
}

// Start starts the test binary again, running no test, with env added to
// the test's environment. The child is killed at the test's cleanup if it
// still runs, and with the test process if that dies first (Linux). Its
// stderr is the test's; its stdout lines are Lines, every one of them
// before the channel closes.
func Start(t testing.TB, name string, env ...string) *Child {
	t.Helper()
	c := &Child{Name: name, lines: make(chan string, 1024), gone: make(chan struct{})}
	p, err := osproc.Start(osproc.Config{
		Path:   os.Args[0],
		Args:   []string{"-test.run=^$"},
		Env:    env,
		Stderr: os.Stderr,
		OnLine: func(l string) {
			select {
			case c.lines <- l:
			case <-c.gone:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.p, c.Cmd = p, p.Cmd
	go func() { <-p.Exited(); close(c.lines) }() // after the last OnLine
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
func (c *Child) CloseStdin() { c.p.CloseStdin() }

// Stop closes the child's stdin and waits up to d for it to exit.
func (c *Child) Stop(t testing.TB, d time.Duration) {
	t.Helper()
	c.CloseStdin()
	select {
	case <-c.p.Exited():
	case <-time.After(d):
		t.Fatalf("child %s did not exit within %v", c.Name, d)
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (c *Child) Kill() {
	c.once.Do(func() { close(c.gone) })
	c.p.Kill()
}

// Exited is closed once the process has ended.
func (c *Child) Exited() <-chan struct{} { return c.p.Exited() }

// Alive reports whether the process still runs.
func (c *Child) Alive() bool { return c.p.Alive() }
