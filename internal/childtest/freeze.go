package childtest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Freeze stops the child with SIGSTOP and returns once the kernel reports
// it stopped (a signal is delivered asynchronously: a child running on
// another CPU may still answer a message or two after kill returns). At
// the test's cleanup the child is continued, before the kill of Start's
// own cleanup. Only on Linux is the stop awaited; elsewhere Freeze returns
// once the signal is sent.
func (c *Child) Freeze(t testing.TB) {
	t.Helper()
	t.Cleanup(func() { _ = c.Cmd.Process.Signal(syscall.SIGCONT) })
	if err := c.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stat := "/proc/" + strconv.Itoa(c.Cmd.Process.Pid) + "/stat"
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(stat)
		if err != nil {
			return // no procfs: nothing to wait on
		}
		// The state follows the command name in parentheses: "pid (comm) T ...".
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't') {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d not stopped 10 s after SIGSTOP", c.Cmd.Process.Pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// Thaw continues a child stopped by Freeze.
func (c *Child) Thaw() error { return c.Cmd.Process.Signal(syscall.SIGCONT) }
