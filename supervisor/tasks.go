package supervisor

import (
	"cmp"
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/spawnpb"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// TaskFunc is a function a task supervisor runs for Async, from any node:
// args is what the caller sent (nil if nothing), and the result goes back
// to it. Between nodes both are protobuf messages. ctx ends when the
// caller's deadline passes (the one Async had), when the caller gives up
// waiting, or when the supervisor stops: a TaskFunc should return then. A
// returned error reaches Await as a *TaskError with ErrTaskFailed, a panic
// as one with ErrTaskCrashed.
type TaskFunc func(ctx context.Context, args proto.Message) (proto.Message, error)

// TaskSupervisorSpec describes a task supervisor, Elixir's Task.Supervisor
// for named functions: the functions it runs, by name (only those: other
// nodes cannot send code), and how many may run at once.
type TaskSupervisorSpec struct {
	Funcs map[string]TaskFunc
	// MaxTasks bounds the tasks running at once; more are refused with
	// ErrTooManyTasks. Default 10,000.
	MaxTasks int
}

// DefaultMaxTasks is TaskSupervisorSpec.MaxTasks when it is not set.
const DefaultMaxTasks = 10000

// Validate reports what is wrong with the spec, wrapping ErrInvalidSpec.
func (s TaskSupervisorSpec) Validate() error {
	if s.MaxTasks < 0 {
		return fmt.Errorf("%w: negative MaxTasks", ErrInvalidSpec)
	}
	for name, f := range s.Funcs {
		if name == "" || f == nil {
			return fmt.Errorf("%w: task %q has no name or no function", ErrInvalidSpec, name)
		}
	}
	return nil
}

// StartTaskSupervisor starts a top-level task supervisor on n; give it a
// name (actor.WithName) so that other nodes can address it with
// actor.NamedPID, as {Name, Node} in Elixir.
func StartTaskSupervisor(ctx context.Context, n *actor.Node, spec TaskSupervisorSpec, opts ...actor.SpawnOption) (*actor.PID, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return n.Spawn(ctx, newTaskServer(spec), opts...)
}

// TaskSupervisor is the spec of a task supervisor as a child in a tree
// (permanent, of TypeSupervisor).
func TaskSupervisor(id string, spec TaskSupervisorSpec, opts ...actor.SpawnOption) ChildSpec {
	return ChildSpec{
		ID:   id,
		Type: TypeSupervisor,
		Start: func(ctx context.Context, sup *actor.Process, _ any) (*actor.PID, error) {
			if err := spec.Validate(); err != nil {
				return nil, err
			}
			return sup.SpawnLink(ctx, newTaskServer(spec), opts...)
		},
	}
}

// task is one run of a function: the supervisor's record, shared with the
// task's process on the same node.
type task struct {
	name     string
	fn       TaskFunc
	args     proto.Message
	timeout  time.Duration
	rt       actor.ReplyTo
	pid      *actor.PID
	answered atomic.Bool
}

// answer sends the task's one answer; later ones are dropped.
func (t *task) answer(n *actor.Node, v proto.Message, err error) {
	if t.answered.Swap(true) {
		return
	}
	if err != nil {
		n.Reply(t.rt, nil, err)
		return
	}
	if v == nil {
		n.Reply(t.rt, nil, nil)
		return
	}
	n.Reply(t.rt, v, nil)
}

type reqKey struct {
	addr string
	ref  uint64
}

// taskServer is the task supervisor process: it starts a linked process
// per task, answers for a task whose process ended without answering
// (killed), and kills its tasks when it stops.
type taskServer struct {
	actor.BaseServer
	funcs   map[string]TaskFunc
	max     int
	running map[string]*task // by the task process's id
	byReq   map[reqKey]*task
}

func newTaskServer(spec TaskSupervisorSpec) *taskServer {
	funcs := make(map[string]TaskFunc, len(spec.Funcs))
	for k, v := range spec.Funcs {
		funcs[k] = v
	}
	return &taskServer{funcs: funcs, max: cmp.Or(spec.MaxTasks, DefaultMaxTasks), running: map[string]*task{}, byReq: map[reqKey]*task{}}
}

func (s *taskServer) Init(p *actor.Process) error {
	p.TrapExit(true)
	return nil
}

func (s *taskServer) HandleCall(p *actor.Process, msg any) (any, error) {
	req, ok := msg.(*spawnpb.TaskRun)
	if !ok {
		return nil, actor.ErrUnhandled
	}
	fn, ok := s.funcs[req.GetName()]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %q", ErrUnknownTask, req.GetName())
	case len(s.running) >= s.max:
		return nil, fmt.Errorf("%w: %d running", ErrTooManyTasks, len(s.running))
	}
	t := &task{name: req.GetName(), fn: fn, timeout: time.Duration(req.GetTimeoutNanos())}
	if a := req.GetArgs(); a != nil {
		args, err := wire.UnpackAny(a)
		if err != nil {
			return nil, fmt.Errorf("%w: the args of task %q: %w", actor.ErrBadFrame, t.name, err)
		}
		t.args = args
	}
	t.rt = p.DeferReply()
	pid, err := p.SpawnLink(context.Background(), &taskProc{t: t})
	if err != nil {
		t.answer(p.Node(), nil, err)
		return nil, nil
	}
	t.pid = pid
	s.running[pid.Id] = t
	s.byReq[reqKey{t.rt.Address(), t.rt.Ref()}] = t
	return nil, nil
}

// HandleCast takes cancellations: the awaiter of a task gave up.
func (s *taskServer) HandleCast(p *actor.Process, msg any) {
	if c, ok := msg.(*spawnpb.TaskCancel); ok {
		if t := s.byReq[reqKey{c.GetAddress(), c.GetRef()}]; t != nil {
			p.Exit(t.pid, actor.ErrKill)
		}
	}
}

func (s *taskServer) HandleInfo(p *actor.Process, msg any) {
	e, ok := msg.(actor.Exit)
	if !ok || e.From.GetAddress() != p.Self().GetAddress() {
		return
	}
	t := s.running[e.From.GetId()]
	if t == nil {
		return
	}
	delete(s.running, e.From.GetId())
	delete(s.byReq, reqKey{t.rt.Address(), t.rt.Ref()})
	reason := e.Reason
	if reason == nil {
		reason = actor.ErrNoProcess // it ended without answering, which a task does not do
	}
	t.answer(p.Node(), nil, &TaskError{Name: t.name, Reason: ErrTaskCrashed, Err: reason})
}

// Terminate kills the running tasks: their functions' contexts end.
func (s *taskServer) Terminate(p *actor.Process, _ error) {
	for _, t := range s.running {
		p.Exit(t.pid, actor.ErrKill)
	}
}

// taskProc is the process of one task: it runs the function on its own
// goroutine, answers, and ends.
type taskProc struct {
	actor.BaseServer
	t *task
}

type runTask struct{}

func (tp *taskProc) Init(p *actor.Process) error { return p.Send(p.Self(), runTask{}) }

func (tp *taskProc) HandleInfo(p *actor.Process, msg any) {
	if _, ok := msg.(runTask); !ok {
		return
	}
	t, n := tp.t, p.Node()
	var ctx context.Context = doneCtx{p.Done()}
	var cancel context.CancelFunc
	if t.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			t.answer(n, nil, &TaskError{Name: t.name, Reason: ErrTaskCrashed, Err: &actor.PanicError{Value: r, Stack: debug.Stack()}})
			panic(r) // a crash of the task's process, logged and counted as any
		}
	}()
	v, err := t.fn(ctx, t.args)
	select {
	case <-p.Done(): // killed while it ran: whatever it returned, it did not finish
		t.answer(n, nil, &TaskError{Name: t.name, Reason: ErrTaskCrashed, Err: p.ExitReason()})
		return
	default:
	}
	switch {
	case err != nil:
		t.answer(n, nil, &TaskError{Name: t.name, Reason: ErrTaskFailed, Err: err})
	default:
		t.answer(n, v, nil)
	}
	p.Stop(nil)
}

// doneCtx is a context that ends when its process does (a kill included),
// without a goroutine of its own.
type doneCtx struct{ done <-chan struct{} }

func (doneCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c doneCtx) Done() <-chan struct{}     { return c.done }
func (doneCtx) Value(any) any               { return nil }
func (c doneCtx) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}
