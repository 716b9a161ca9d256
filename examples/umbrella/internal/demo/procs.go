package demo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// proc is one node of the demo in an OS process of its own: this binary
// started again as "node". It runs in a process group of its own (a
// Ctrl-C on the terminal reaches the demo only, which stops the nodes in
// order) and dies with the demo if the demo dies (Pdeathsig).
type proc struct {
	name, role string
	cmd        *exec.Cmd
	stdin      io.Closer
	ready      chan string // the node's transport address, once
	exited     chan struct{}
	log        string // its stderr
}

// spawn starts node name of role (its release) with args after "node
// -release role" and env added to the demo's environment.
func spawn(exe, dir, name, role string, env []string, args ...string) (*proc, error) {
	short := strings.SplitN(name, "@", 2)[0]
	logPath := filepath.Join(dir, short+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(exe, append([]string{"node", "-release", role}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	cmd.SysProcAttr = procAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: name, role: role, cmd: cmd, stdin: stdin, ready: make(chan string, 1), exited: make(chan struct{}), log: logPath}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if f := strings.Fields(s.Text()); len(f) == 3 && f[0] == "READY" {
				p.ready <- f[2]
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// await waits for the node's READY and returns its address.
func (p *proc) await(ctx context.Context) (string, error) {
	select {
	case addr := <-p.ready:
		return addr, nil
	case <-p.exited:
		return "", fmt.Errorf("node %s exited before it was ready (see %s)", p.name, p.log)
	case <-ctx.Done():
		return "", fmt.Errorf("node %s not ready: %w (see %s)", p.name, ctx.Err(), p.log)
	}
}

// kill sends SIGKILL to the node's process group and waits for its end.
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// alive reports whether the process still runs.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop closes the node's stdin, which stops it cleanly, and kills it if
// it has not exited within d.
func (p *proc) stop(d time.Duration) (clean bool) {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		p.kill()
		return false
	}
}
