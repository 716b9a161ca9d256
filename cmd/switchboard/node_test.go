package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/internal/childtest"
)

// childArgs: the test binary started by childtest runs the command with
// these arguments (tab-separated) instead of the tests.
const childArgs = "SWITCHBOARD_CLI_TEST_ARGS"

func init() {
	if a, ok := os.LookupEnv(childArgs); ok {
		os.Exit(run(strings.Split(a, "\t"), os.Stdout, os.Stderr, os.LookupEnv))
	}
}

// releaseFile writes a release of the node name, seeded with seeds, with a
// declared pub-sub exchange, and returns its path.
func releaseFile(t *testing.T, name, extra string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "node.toml")
	text := fmt.Sprintf("[node]\nname = %q\nlisten = \"127.0.0.1:0\"\ncookie = %q\n%s", name, cookie, extra)
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// startNode runs "switchboard node --release FILE" as an OS process and
// returns it with its transport address.
func startNode(t *testing.T, name, file string) (*childtest.Child, string) {
	t.Helper()
	c := childtest.Start(t, name, childArgs+"=node\t--release\t"+file)
	l := c.Expect(t, 30*time.Second, "node "+name+" listening on ")
	return c, l[strings.LastIndex(l, " ")+1:]
}

// TestNodeRelease: two nodes from release files, each an OS process, seen
// by "switchboard nodes" and "exchanges", stopped with SIGTERM.
func TestNodeRelease(t *testing.T) {
	a, addrA := startNode(t, "a@localhost", releaseFile(t, "a@localhost", "\n[exchanges.news]\nkind = \"pubsub\"\n"))
	b, addrB := startNode(t, "b@localhost", releaseFile(t, "b@localhost", fmt.Sprintf("seeds = [%q]\n", addrA)))
	env := []string{"SWITCHBOARD_NODE=" + addrB, "SWITCHBOARD_COOKIE=" + cookie}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var nodes []inspect.NodeInfo
		code, out, errOut := cli(t, env, "nodes", "--json")
		if code == exitOK {
			if err := json.Unmarshal([]byte(out), &nodes); err != nil {
				t.Fatal(err, out)
			}
		}
		if len(nodes) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes through b: exit %d, %+v: %s", code, nodes, errOut)
		}
		time.Sleep(50 * time.Millisecond) // membership spreads asynchronously: poll, bounded
	}
	if code, out, errOut := cli(t, env, "exchanges"); code != exitOK || !strings.Contains(out, "a@localhost") || !strings.Contains(out, "news") {
		t.Fatalf("exchanges: exit %d:\n%s%s", code, out, errOut)
	}
	if code, out, errOut := cli(t, env, "publish", "news", "k", `"hi"`); code != exitOK {
		t.Fatalf("publish: exit %d:\n%s%s", code, out, errOut)
	}
	for _, c := range []*childtest.Child{b, a} {
		if err := c.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		c.Expect(t, 30*time.Second, "stopped")
		select {
		case <-c.Exited():
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not exit after SIGTERM", c.Name)
		}
		if code := c.Cmd.ProcessState.ExitCode(); code != exitOK {
			t.Fatalf("%s: exit %d after SIGTERM", c.Name, code)
		}
	}
	if code, _, errOut := cli(t, env, "nodes"); code != exitUnreachable {
		t.Fatalf("nodes after the stop: exit %d: %s", code, errOut)
	}
}

func TestNodeReleaseErrors(t *testing.T) {
	apps := releaseFile(t, "a@localhost", "\n[apps.web]\n")
	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no release", []string{"node"}, exitUsage, "--release"},
		{"missing file", []string{"node", "--release", "/nonexistent.toml"}, exitUsage, "nonexistent"},
		{"user application", []string{"node", "--release", apps}, exitUsage, "unknown application"},
		{"bad flag", []string{"node", "--nope"}, exitUsage, "nope"},
	} {
		code, _, errOut := cli(t, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("%s: exit %d (want %d): %s", c.name, code, c.code, errOut)
		}
	}
}
