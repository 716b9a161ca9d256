package supervisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/childtest"
)

// Task supervisors on nodes in OS processes of their own.

// taskChildEnv makes the test binary run as a node with a task supervisor
// (see runTaskChild).
const taskChildEnv = "SWITCHBOARD_SUPERVISOR_TASK_CHILD"

// runTaskChild is a node in its own process with a task supervisor named
// "tasks" running testTasks, whose "block" says RUNNING and ENDED on
// stdout; it prints its address and lives until its stdin closes.
func runTaskChild() {
	n, err := actor.Start(actor.Config{Name: "tasks@localhost", Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	lines := make(chan string, 16)
	go func() {
		for l := range lines {
			fmt.Println(l)
		}
	}()
	if _, err := StartTaskSupervisor(context.Background(), n, TaskSupervisorSpec{Funcs: testTasks(lines, lines)}, actor.WithName("tasks")); err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("READY", n.Address())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func startTaskChild(t *testing.T) (*childtest.Child, *actor.PID) {
	t.Helper()
	c := childtest.Start(t, "tasks", taskChildEnv+"=1")
	addr := strings.TrimPrefix(c.Expect(t, 30*time.Second, "READY "), "READY ")
	return c, actor.NamedPID(addr, "tasks")
}

// Await across OS processes: a result, the function's error with its
// message, a crash, an unknown name; an Await that gives up kills the
// task there.
func TestTasksOnChildProcess(t *testing.T) {
	child, sup := startTaskChild(t)
	n := quietNode(t, actor.Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	task, err := Async(tctx(t), n, sup, "upper", wrapperspb.String("remote"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := task.Await(tctx(t))
	if err != nil || v.(*wrapperspb.StringValue).GetValue() != "REMOTE" {
		t.Fatalf("Await upper = %v, %v", v, err)
	}
	var te *TaskError
	_, err = Run(tctx(t), n, sup, "fail", nil)
	t.Logf("fail: %v", err)
	if !errors.As(err, &te) || te.Reason != ErrTaskFailed || !errors.Is(err, errOutOfStock) {
		t.Errorf("fail = %v; want ErrTaskFailed with errOutOfStock", err)
	}
	_, err = Run(tctx(t), n, sup, "crash", nil)
	t.Logf("crash: %v", err)
	if !errors.As(err, &te) || te.Reason != ErrTaskCrashed || !strings.Contains(err.Error(), "panic: boom") {
		t.Errorf("crash = %v; want ErrTaskCrashed with panic: boom", err)
	}
	_, err = Run(tctx(t), n, sup, "nothing", nil)
	t.Logf("nothing: %v", err)
	if !errors.Is(err, ErrUnknownTask) {
		t.Errorf("nothing = %v; want ErrUnknownTask", err)
	}
	task, err = Async(context.Background(), n, sup, "block", nil)
	if err != nil {
		t.Fatal(err)
	}
	child.Expect(t, 10*time.Second, "RUNNING")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := task.Await(ctx); !errors.Is(err, actor.ErrTimeout) {
		t.Fatalf("Await past its deadline = %v; want ErrTimeout", err)
	}
	if got := child.Expect(t, 10*time.Second, "ENDED"); got != "ENDED context canceled" {
		t.Fatalf("the given-up task on the child: %q", got)
	}
}

// The node running a task is killed with SIGKILL mid-task: Await returns
// ErrNodeDown as soon as this node sees the connection break, long before
// its deadline.
func TestTaskNodeKilledMidTask(t *testing.T) {
	child, sup := startTaskChild(t)
	n := quietNode(t, actor.Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	const deadline = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	task, err := Async(ctx, n, sup, "block", nil)
	if err != nil {
		t.Fatal(err)
	}
	child.Expect(t, 10*time.Second, "RUNNING")
	killed := time.Now()
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, err = task.Await(ctx)
	took := time.Since(killed)
	t.Logf("Await returned %v after SIGKILL (deadline %v): %v", took.Round(time.Millisecond), deadline, err)
	if !errors.Is(err, actor.ErrNodeDown) {
		t.Fatalf("Await = %v; want ErrNodeDown", err)
	}
	if took > 5*time.Second {
		t.Errorf("ErrNodeDown came %v after the kill; want it at once", took)
	}
}
