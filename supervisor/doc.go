// Package supervisor implements Erlang/OTP's supervisors and applications
// as processes of package actor.
//
// A supervisor starts its children in order from ChildSpecs, links to them,
// traps their exits and restarts them by its Strategy: OneForOne (only the
// child), OneForAll (all of them), RestForOne (the child and those started
// after it), SimpleOneForOne (many children from one template, started with
// StartChildWith). A child's Restart says when: Permanent always, Transient
// after an abnormal exit, Temporary never. A restarted child is a new
// process with a new PID (it takes its registered name back).
//
// More than Intensity restarts within Period make the supervisor give up:
// it stops its children and exits with a reason that wraps
// ErrMaxRestartIntensity, which its own supervisor sees, and so up the tree.
// Children stop in reverse start order, each within its Shutdown time:
// BrutalKill kills at once, a timeout sends a shutdown exit and kills after
// it, Infinity (the default for supervisors) waits.
//
// An Application is a named top supervisor with dependencies and a Stop
// callback; an AppController starts applications after their dependencies,
// stops dependents first, and applies the application's restart type when
// its tree exits on its own: Temporary is reported, Transient is reported
// after a normal exit, and otherwise every other application and the node
// are stopped.
//
// A task supervisor (StartTaskSupervisor, or TaskSupervisor in a tree) is
// Elixir's Task.Supervisor for named functions: it runs the TaskFuncs of
// its spec, one linked process per task, for callers on any node. Async
// starts one on the supervisor at a PID (actor.NamedPID(address, name)
// on another node) and Await returns its result, or a *TaskError
// (ErrTaskFailed, ErrTaskCrashed), ErrUnknownTask, actor.ErrNodeDown (as
// soon as the supervisor's node is seen going away), actor.ErrTimeout;
// Run is both at once, as Erlang's rpc:call.
//
// The functions that query or change a supervisor (StartChild, WhichChildren,
// …) are calls and work on supervisors of the caller's node.
package supervisor
