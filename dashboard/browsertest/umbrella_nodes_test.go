package browsertest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// umbrellaNode is one node of the umbrella example (examples/umbrella) in
// an OS process of its own, "umbrella node -release ROLE", in a process
// group of its own; t.Cleanup stops it (stdin closed) or kills its group.
type umbrellaNode struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.Closer
	ready  chan struct{}
	exited chan struct{}
	log    string // its stderr
}

// buildUmbrella builds the umbrella's binary into a t.TempDir() (from
// the root module, two directories up) and returns its path.
func buildUmbrella(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "umbrella")
	start := time.Now()
	cmd := exec.Command("go", "build", "-C", "../..", "-o", exe, "./examples/umbrella")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/umbrella: %v\n%s", err, out)
	}
	t.Logf("built the umbrella in %v", time.Since(start).Round(time.Millisecond))
	return exe
}

// startUmbrellaNode starts node name of role with env (SWITCHBOARD_NODE_*)
// added to the test's environment; its log goes to dir.
func startUmbrellaNode(t *testing.T, exe, dir, name, role string, env ...string) *umbrellaNode {
	t.Helper()
	logPath := filepath.Join(dir, strings.SplitN(name, "@", 2)[0]+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, "node", "-release", role)
	cmd.Env = append(os.Environ(), append(env, "SWITCHBOARD_NODE_NAME="+name)...)
	cmd.Stderr = logf
	cmd.SysProcAttr = procAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	u := &umbrellaNode{name: name, cmd: cmd, stdin: stdin, ready: make(chan struct{}), exited: make(chan struct{}), log: logPath}
	go func() { // ends when the process's stdout closes: at its exit
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "READY "+name+" ") {
				close(u.ready)
			}
		}
		_ = cmd.Wait()
		close(u.exited)
	}()
	t.Cleanup(func() { u.stop(15 * time.Second) })
	return u
}

// await waits at most d for the node's READY.
func (u *umbrellaNode) await(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-u.ready:
	case <-u.exited:
		t.Fatalf("%s exited before it was ready: %s", u.name, u.stderr())
	case <-time.After(d):
		t.Fatalf("%s not ready after %v: %s", u.name, d, u.stderr())
	}
}

// kill sends SIGKILL to the node's process group and waits for its end.
func (u *umbrellaNode) kill() {
	_ = syscall.Kill(-u.cmd.Process.Pid, syscall.SIGKILL)
	<-u.exited
}

// stop closes the node's stdin, which stops it cleanly, and kills its
// process group if it has not exited within d.
func (u *umbrellaNode) stop(d time.Duration) {
	_ = u.stdin.Close()
	select {
	case <-u.exited:
	case <-time.After(d):
		u.kill()
	}
}

func (u *umbrellaNode) stderr() string {
	b, _ := os.ReadFile(u.log)
	return string(b)
}
