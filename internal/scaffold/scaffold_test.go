package scaffold

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// moduleRoot is Switchboard's module root (the directory of its go.mod).
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/switchboard-go/switchboard\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no Switchboard go.mod above the test")
		}
		dir = parent
	}
}

// The scaffold writes a project that builds against this module (offline,
// in a module of its own) and whose node starts from its release file
// and stops on SIGINT; a second Write into it refuses to overwrite.
func TestWriteBuildsAndRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	root, dir := moduleRoot(t), t.TempDir()
	if _, err := Write(dir, "example.com/shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, "example.com/shop"); !errors.Is(err, ErrExists) {
		t.Fatalf("a second Write: %v, want ErrExists", err)
	}
	gomod := "module example.com/shop\n\ngo 1.26.7\n\nrequire github.com/switchboard-go/switchboard v0.0.0\n\nreplace github.com/switchboard-go/switchboard => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The module proxy as the environment sets it: a fresh module cache,
	// filled by building this module, lacks go.mod files a new module's
	// graph needs (see internal/docstest's offline); a warm one fetches
	// nothing.
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-mod=mod -buildvcs=false")
	for _, args := range [][]string{{"vet", "./..."}, {"build", "-o", "shop", "."}} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "shop"), "releases/node.toml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SWITCHBOARD_NODE_LOCK_DIR="+filepath.Join(dir, "locks"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "node shop-1@localhost at ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("first line %q, %v", line, err)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the node's exit after SIGINT: %v", err)
	}
}
