package supervisor

import "errors"

// Errors of this package; test them with errors.Is.
var (
	// ErrInvalidSpec: a Spec or ChildSpec failed Validate.
	ErrInvalidSpec = errors.New("supervisor: invalid spec")
	// ErrStartChild: a child's start function failed; wraps its error.
	ErrStartChild = errors.New("supervisor: failed to start child")
	// ErrAlreadyPresent: a child with this id exists.
	ErrAlreadyPresent = errors.New("supervisor: child already present")
	// ErrNotFound: no child with this id (or pid).
	ErrNotFound = errors.New("supervisor: no such child")
	// ErrRunning: the child is running; terminate it first.
	ErrRunning = errors.New("supervisor: child is running")
	// ErrSimpleOneForOne: the operation does not apply to (or only applies
	// to) a SimpleOneForOne supervisor.
	ErrSimpleOneForOne = errors.New("supervisor: operation not valid for this strategy")
	// ErrMaxRestartIntensity is in the exit reason of a supervisor that
	// restarted children more than Intensity times within Period. The
	// reason is a shutdown too (actor.IsNormalExit), as in Erlang.
	ErrMaxRestartIntensity = errors.New("supervisor: reached maximum restart intensity")

	// Applications.
	// ErrUnknownApplication: no application of that name is loaded.
	ErrUnknownApplication = errors.New("supervisor: unknown application")
	// ErrAlreadyLoaded: an application of that name is loaded already.
	ErrAlreadyLoaded = errors.New("supervisor: application already loaded")
	// ErrDependencyCycle: applications depend on each other in a cycle.
	ErrDependencyCycle = errors.New("supervisor: dependency cycle")
	// ErrNotRunning: the application is not running.
	ErrNotRunning = errors.New("supervisor: application not running")
	// ErrApplicationExited is in AppController.Err after an application whose
	// exit takes the node down (permanent, or transient and abnormal).
	ErrApplicationExited = errors.New("supervisor: application exited")
)

// Errors of task supervisors (Async, Await, Run).
var (
	// ErrUnknownTask: the task supervisor runs no function of that name.
	ErrUnknownTask = errors.New("supervisor: unknown task")
	// ErrTooManyTasks: the task supervisor runs TaskSupervisorSpec.MaxTasks
	// tasks already.
	ErrTooManyTasks = errors.New("supervisor: too many tasks")
	// ErrTaskFailed is the Reason of a *TaskError whose function returned
	// an error.
	ErrTaskFailed = errors.New("supervisor: task failed")
	// ErrTaskCrashed is the Reason of a *TaskError whose function panicked
	// or whose process was killed before it returned.
	ErrTaskCrashed = errors.New("supervisor: task crashed")
)
