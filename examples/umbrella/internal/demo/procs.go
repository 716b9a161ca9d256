package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard-go/switchboard/internal/osproc"
)

// proc is one node of the demo in an OS process of its own: this binary
// started again as "node". It runs in a process group of its own (a
// Ctrl-C on the terminal reaches the demo only, which stops the nodes in
// order) and dies with the demo if the demo dies.
type proc struct {
	name, role string
	*osproc.Proc
	ready <-chan string // the node's READY line, once
	log   string        // its stderr
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
	onLine, ready := osproc.Ready("READY ")
	p, err := osproc.Start(osproc.Config{
		Path:     exe,
		Args:     append([]string{"node", "-release", role}, args...),
		Env:      env,
		Stderr:   logf,
		OwnGroup: true,
		OnLine:   onLine,
	})
	if err != nil {
		return nil, err
	}
	return &proc{name: name, role: role, Proc: p, ready: ready, log: logPath}, nil
}

// await waits for the node's READY and returns its address.
func (p *proc) await(ctx context.Context) (string, error) {
	line, err := p.Await(ctx, p.ready)
	switch {
	case errors.Is(err, osproc.ErrExited):
		return "", fmt.Errorf("node %s exited before it was ready (see %s)", p.name, p.log)
	case err != nil:
		return "", fmt.Errorf("node %s not ready: %w (see %s)", p.name, err, p.log)
	}
	f := strings.Fields(line) // READY name address
	if len(f) != 3 {
		return "", fmt.Errorf("node %s: malformed %q (see %s)", p.name, line, p.log)
	}
	return f[2], nil
}
