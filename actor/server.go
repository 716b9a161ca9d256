package actor

// Server is the gen_server behaviour: the callbacks a process runs. All of
// them run on the process's own goroutine, one message at a time, so a
// server's fields need no locks. Embed BaseServer and write only the
// callbacks you need.
//
// A panic in a callback is a crash of the process: it exits with a
// *PanicError, its links and monitors are told, and its supervisor decides
// what happens next. The node keeps running.
type Server interface {
	// Init runs first, before Spawn returns. An error (or panic) aborts the
	// start: Spawn returns it wrapped in ErrInit and the process is gone.
	Init(p *Process) error
	// HandleCall answers a synchronous Call. The reply goes to the caller,
	// unless the server called p.DeferReply to answer later.
	HandleCall(p *Process, msg any) (reply any, err error)
	// HandleCast handles an asynchronous Cast.
	HandleCast(p *Process, msg any)
	// HandleInfo handles every other message: Send, Down from monitors, and
	// Exit from links when the process traps exits.
	HandleInfo(p *Process, msg any)
	// Terminate runs when the process exits on its own goroutine: after
	// p.Stop, a crash, or an exit signal. It does not run when the process
	// is killed (ErrKill), as in Erlang.
	Terminate(p *Process, reason error)
}

// BaseServer implements every Server callback with a default: Init succeeds,
// HandleCall answers ErrUnhandled, the rest do nothing.
type BaseServer struct{}

// Init does nothing.
func (BaseServer) Init(*Process) error { return nil }

// HandleCall answers ErrUnhandled.
func (BaseServer) HandleCall(*Process, any) (any, error) { return nil, ErrUnhandled }

// HandleCast ignores the message.
func (BaseServer) HandleCast(*Process, any) {}

// HandleInfo ignores the message.
func (BaseServer) HandleInfo(*Process, any) {}

// Terminate does nothing.
func (BaseServer) Terminate(*Process, error) {}

// Down is delivered to HandleInfo when a monitored process exits, when it did
// not exist (Reason ErrNoProcess) or when its node went away (ErrNodeDown).
type Down struct {
	Ref    Ref
	PID    *PID
	Reason error
}

// Exit is delivered to HandleInfo of a process that traps exits, when a
// linked process exits or another process sends it an exit signal.
type Exit struct {
	From   *PID
	Reason error
}

// Ref identifies a monitor.
type Ref uint64
