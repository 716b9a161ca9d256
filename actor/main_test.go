package actor

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// childEnv makes the test binary run as a child node (see runChild).
const childEnv = "SWITCHBOARD_ACTOR_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		runChild()
		return
	}
	goleak.VerifyTestMain(m)
}

// runChild is a node in its own OS process: it serves an echo process that
// blocks on "block", prints its address and pid, and lives until its stdin
// closes (so it never outlives the test) or it is killed.
func runChild() {
	n, err := Start(Config{Name: "child@localhost", Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	pid, err := n.Spawn(context.Background(), &fn{call: func(_ *Process, msg any) (any, error) {
		if s, ok := msg.(*wrapperspb.StringValue); ok && s.Value == "block" {
			select {}
		}
		return msg, nil
	}})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("READY", n.Address(), pid.Id)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

// startChild runs a child node and returns its echo process's PID and the
// command, which the test may kill; cleanup kills it in any case.
func startChild(t *testing.T) (*PID, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
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
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "READY" {
			t.Fatalf("child said %q", line)
		}
		return NewPID(f[1], f[2]), cmd
	case <-time.After(20 * time.Second):
		t.Fatal("child node did not start")
		return nil, nil
	}
}
