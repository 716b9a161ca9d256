package actor

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/childtest"
)

// childEnv makes the test binary run as a child node (see runChild).
const childEnv = "SWITCHBOARD_ACTOR_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		runChild()
		return
	}
	if os.Getenv(boundsChildEnv) != "" { // see bounds_process_test.go
		runBoundsChild()
		return
	}
	if os.Getenv(spawnChildEnv) != "" { // see spawn_process_test.go
		runSpawnChild()
		return
	}
	goleak.VerifyTestMain(m)
}

// runChild is a node in its own OS process: it serves an echo process that
// blocks on "block", prints its address and pid, and lives until its stdin
// closes (so it never outlives the test) or it is killed. SB_LISTEN,
// SB_COOKIE and SB_TICK, if set, are its Listen, Cookie and TickTime.
func runChild() {
	tick, _ := time.ParseDuration(os.Getenv("SB_TICK"))
	n, err := Start(Config{Name: "child@localhost", Listen: cmp.Or(os.Getenv("SB_LISTEN"), "127.0.0.1:0"),
		Cookie: os.Getenv("SB_COOKIE"), TickTime: tick})
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
// child, which the test may kill; cleanup kills it in any case.
func startChild(t *testing.T, env ...string) (*PID, *childtest.Child) {
	t.Helper()
	c := childtest.Start(t, "child", append(env, childEnv+"=1")...)
	f := strings.Fields(c.Expect(t, 20*time.Second, "READY "))
	if len(f) != 3 {
		t.Fatalf("child said %q", f)
	}
	return NewPID(f[1], f[2]), c
}
