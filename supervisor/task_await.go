package supervisor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/spawnpb"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// Task is a function running under a task supervisor, on this node or
// another, started by Async; Await returns its result.
type Task struct {
	n    *actor.Node
	sup  *actor.PID
	name string
	pend actor.Pending
	rt   actor.ReplyTo // pend's, which names the task to its supervisor
	done bool
	val  proto.Message
	err  error
}

// Async runs the function registered as name on the task supervisor sup
// (actor.NamedPID(address, name) for one on another node, as Elixir's
// Task.Supervisor.async({sup, node}, ...)), with args, and returns at once.
// ctx's deadline, if it has one, is the function's: its context ends then.
// The errors of Async are those of sending (actor.ErrNotSerializable,
// actor.ErrOverloaded, actor.ErrNodeStopped); every other outcome is
// Await's.
func Async(ctx context.Context, n *actor.Node, sup *actor.PID, name string, args proto.Message) (*Task, error) {
	req := &spawnpb.TaskRun{Name: name}
	if args != nil {
		a, err := wire.PackAny(args)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", actor.ErrNotSerializable, err)
		}
		req.Args = a
	}
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left <= 0 {
			return nil, fmt.Errorf("%w: %w", actor.ErrTimeout, context.DeadlineExceeded)
		}
		req.TimeoutNanos = int64(left)
	}
	if sup == nil {
		return nil, actor.ErrNoProcess
	}
	// A Pending that takes many answers has no deadline of its own (a task
	// may run longer than CallTimeout) and still fails at once with
	// ErrNodeDown if sup's node goes away. Await takes the first answer.
	t := &Task{n: n, sup: sup, name: name, pend: n.NewPending(ctx, sup.Address, true)}
	t.rt = t.pend.ReplyTo()
	if err := n.Forward(sup, req, t.rt); err != nil {
		t.pend.Release()
		return nil, err
	}
	return t, nil
}

// Await waits for the task's result, as Elixir's Task.await: the
// function's result, or an error for errors.Is and errors.As:
//
//   - a *TaskError with Reason ErrTaskFailed: the function returned an
//     error (TaskError.Err; from another node, an *actor.RemoteError
//     with its text, which errors.Is still matches against sentinels);
//   - a *TaskError with Reason ErrTaskCrashed: it panicked, or its process
//     was killed;
//   - ErrUnknownTask, ErrTooManyTasks: the supervisor did not run it;
//   - actor.ErrNodeDown (an *actor.NodeDownError): the supervisor's node
//     went away, or was unreachable, before the answer came, reported as
//     soon as this node learns it, not at the deadline;
//   - actor.ErrNoProcess: there is no such supervisor;
//   - actor.ErrTimeout or ctx's error: ctx ended first. Then the task is
//     killed (its function's context ends), as a linked task is in Elixir
//     when its awaiter gives up.
//
// A task is awaited once, from one goroutine at a time: later calls
// return the same result.
func (t *Task) Await(ctx context.Context) (proto.Message, error) {
	if t.done {
		return t.val, t.err
	}
	v, err := t.pend.Wait(ctx)
	t.pend.Release()
	t.done = true
	if err != nil && ctx.Err() != nil { // gave up: the task must not run on for nobody
		_ = t.n.Cast(t.sup, &spawnpb.TaskCancel{Address: t.rt.Address(), Ref: t.rt.Ref()})
	}
	if err != nil {
		t.err = t.taskError(err)
		return nil, t.err
	}
	if v != nil {
		m, ok := v.(proto.Message)
		if !ok {
			t.err = fmt.Errorf("%w: task %q answered %T", actor.ErrBadFrame, t.name, v)
			return nil, t.err
		}
		t.val = m
	}
	return t.val, nil
}

// Run runs the function name on the task supervisor sup and waits for its
// result, as Erlang's rpc:call: Async then Await with ctx.
func Run(ctx context.Context, n *actor.Node, sup *actor.PID, name string, args proto.Message) (proto.Message, error) {
	t, err := Async(ctx, n, sup, name, args)
	if err != nil {
		return nil, err
	}
	return t.Await(ctx)
}

// TaskError is the error of a task whose function failed (Reason
// ErrTaskFailed) or crashed (ErrTaskCrashed). errors.Is matches Reason
// and Err.
type TaskError struct {
	Name   string // the function's name
	Reason error  // ErrTaskFailed or ErrTaskCrashed
	// Err is the function's error, its panic (an *actor.PanicError) or its
	// process's exit reason; from another node, an *actor.RemoteError
	// with its text.
	Err error
}

// Error says which function failed, how and why.
func (e *TaskError) Error() string { return fmt.Sprintf("%v: %s: %v", e.Reason, e.Name, e.Err) }

// Unwrap returns Reason and Err.
func (e *TaskError) Unwrap() []error { return []error{e.Reason, e.Err} }

// taskError rebuilds the *TaskError of a task on another node from its
// text, which is all that crosses nodes.
func (t *Task) taskError(err error) error {
	var te *TaskError
	if errors.As(err, &te) {
		return err
	}
	text := err.Error()
	for _, reason := range []error{ErrTaskFailed, ErrTaskCrashed} {
		if rest, ok := strings.CutPrefix(text, reason.Error()+": "+t.name+": "); ok {
			return &TaskError{Name: t.name, Reason: reason, Err: &actor.RemoteError{Text: rest}}
		}
	}
	return err
}
