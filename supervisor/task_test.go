package supervisor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
)

var errOutOfStock = errors.New("inventory: out of stock")

// testTasks are the functions of the task supervisors of these tests:
// "upper" upper-cases a string, "fail" returns errOutOfStock, "crash"
// panics, "deadline" answers whether its context has a deadline, and
// "block" reports on running (if set) and waits for its context to end,
// reporting on ended.
func testTasks(running, ended chan<- string) map[string]TaskFunc {
	return map[string]TaskFunc{
		"upper": func(_ context.Context, args proto.Message) (proto.Message, error) {
			return wrapperspb.String(strings.ToUpper(args.(*wrapperspb.StringValue).GetValue())), nil
		},
		"fail": func(context.Context, proto.Message) (proto.Message, error) {
			return nil, errOutOfStock
		},
		"crash": func(context.Context, proto.Message) (proto.Message, error) { panic("boom") },
		"deadline": func(ctx context.Context, _ proto.Message) (proto.Message, error) {
			_, ok := ctx.Deadline()
			return wrapperspb.Bool(ok), nil
		},
		"block": func(ctx context.Context, _ proto.Message) (proto.Message, error) {
			if running != nil {
				running <- "RUNNING"
			}
			<-ctx.Done()
			if ended != nil {
				ended <- "ENDED " + ctx.Err().Error()
			}
			return nil, ctx.Err()
		},
	}
}

func quietNode(t *testing.T, cfg actor.Config) *actor.Node {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := actor.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return n
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// On one node and from another: results, the function's error (its
// sentinel matched with errors.Is on both), a crash, unknown names, no
// supervisor, the caller's deadline in the function's context.
func TestTaskSupervisorRuns(t *testing.T) {
	b := quietNode(t, actor.Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	a := quietNode(t, actor.Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	if _, err := StartTaskSupervisor(tctx(t), b, TaskSupervisorSpec{Funcs: testTasks(nil, nil)}, actor.WithName("tasks")); err != nil {
		t.Fatal(err)
	}
	for _, from := range []*actor.Node{b, a} {
		sup := actor.NamedPID(b.Address(), "tasks")
		v, err := Run(tctx(t), from, sup, "upper", wrapperspb.String("abc"))
		if err != nil || v.(*wrapperspb.StringValue).GetValue() != "ABC" {
			t.Fatalf("from %s: upper = %v, %v", from.Name(), v, err)
		}
		var te *TaskError
		_, err = Run(tctx(t), from, sup, "fail", nil)
		if !errors.As(err, &te) || te.Reason != ErrTaskFailed || te.Name != "fail" || !errors.Is(err, errOutOfStock) || !errors.Is(err, ErrTaskFailed) {
			t.Errorf("from %s: fail = %v; want a TaskError with ErrTaskFailed and errOutOfStock", from.Name(), err)
		}
		_, err = Run(tctx(t), from, sup, "crash", nil)
		if !errors.As(err, &te) || !errors.Is(err, ErrTaskCrashed) || !strings.Contains(err.Error(), "boom") {
			t.Errorf("from %s: crash = %v; want ErrTaskCrashed with boom", from.Name(), err)
		}
		if _, err = Run(tctx(t), from, sup, "nothing", nil); !errors.Is(err, ErrUnknownTask) {
			t.Errorf("from %s: nothing = %v; want ErrUnknownTask", from.Name(), err)
		}
		if _, err = Run(tctx(t), from, actor.NamedPID(b.Address(), "nosup"), "upper", nil); !errors.Is(err, actor.ErrNoProcess) {
			t.Errorf("from %s: no supervisor = %v; want ErrNoProcess", from.Name(), err)
		}
		v, err = Run(tctx(t), from, sup, "deadline", nil)
		if err != nil || !v.(*wrapperspb.BoolValue).GetValue() {
			t.Errorf("from %s: deadline = %v, %v; want the caller's deadline in the function's context", from.Name(), v, err)
		}
		v, err = Run(context.Background(), from, sup, "deadline", nil)
		if err != nil || v.(*wrapperspb.BoolValue).GetValue() {
			t.Errorf("from %s: deadline without one = %v, %v; want none", from.Name(), v, err)
		}
	}
}

// Await giving up kills the task (its function's context ends); a
// supervisor stopping kills its tasks, whose awaiters get ErrTaskCrashed;
// MaxTasks bounds the tasks running.
func TestTaskSupervisorEnds(t *testing.T) {
	n := quietNode(t, actor.Config{Name: "a@localhost"})
	running, ended := make(chan string, 8), make(chan string, 8)
	sup, err := Start(tctx(t), n, Spec{Children: []ChildSpec{
		TaskSupervisor("tasks", TaskSupervisorSpec{Funcs: testTasks(running, ended), MaxTasks: 1}, actor.WithName("tasks")),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts := n.Whereis("tasks")
	task, err := Async(context.Background(), n, ts, "block", nil)
	if err != nil {
		t.Fatal(err)
	}
	recvLine(t, running)
	if _, err := Run(tctx(t), n, ts, "upper", wrapperspb.String("x")); !errors.Is(err, ErrTooManyTasks) {
		t.Errorf("a second task with MaxTasks 1 = %v; want ErrTooManyTasks", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := task.Await(ctx); !errors.Is(err, actor.ErrTimeout) {
		t.Fatalf("Await past its deadline = %v; want ErrTimeout", err)
	}
	if got := recvLine(t, ended); got != "ENDED context canceled" {
		t.Fatalf("the given-up task: %q", got)
	}
	if _, err := task.Await(tctx(t)); !errors.Is(err, actor.ErrTimeout) {
		t.Fatalf("a second Await = %v; want the first's result", err)
	}

	task, err = Async(context.Background(), n, ts, "block", nil)
	if err != nil {
		t.Fatal(err)
	}
	recvLine(t, running)
	if err := TerminateChild(tctx(t), n, sup, "tasks"); err != nil {
		t.Fatal(err)
	}
	_, err = task.Await(tctx(t))
	if !errors.Is(err, ErrTaskCrashed) || !errors.Is(err, actor.ErrKilled) {
		t.Fatalf("Await of a task whose supervisor stopped = %v; want ErrTaskCrashed, killed", err)
	}
	recvLine(t, ended)
}

func recvLine(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("nothing within 10 s")
		return ""
	}
}
