package actor

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by the functions of this package, and the exit reasons it
// gives processes. Test them with errors.Is.
var (
	// ErrTimeout: a call or a start did not complete before its deadline.
	ErrTimeout = errors.New("actor: timeout")
	// ErrNoProcess: the process does not exist (it never did, or it exited).
	ErrNoProcess = errors.New("actor: no such process")
	// ErrNodeDown: the node of a remote process is unreachable or went away.
	ErrNodeDown = errors.New("actor: node down")
	// ErrNodeStopped: the local node has been stopped.
	ErrNodeStopped = errors.New("actor: node stopped")
	// ErrNameTaken: the name is already registered to another process.
	ErrNameTaken = errors.New("actor: name already registered")
	// ErrAlreadyNamed: the process already has a registered name.
	ErrAlreadyNamed = errors.New("actor: process already has a name")
	// ErrNotSerializable: a message for a remote process is not a protobuf message.
	ErrNotSerializable = errors.New("actor: message for a remote process must be a protobuf message")
	// ErrUnhandled: the server has no HandleCall of its own.
	ErrUnhandled = errors.New("actor: call not handled")
	// ErrInit: a process's Init failed; the error wraps Init's error or panic.
	ErrInit = errors.New("actor: init failed")
	// ErrCallSelf: a process called itself, which could only time out.
	ErrCallSelf = errors.New("actor: process called itself")
	// ErrBadFrame: a frame from the network could not be decoded.
	ErrBadFrame = errors.New("actor: malformed frame")
	// ErrMessageTooLarge: a message for a remote process exceeds
	// Config.MaxFrameSize.
	ErrMessageTooLarge = errors.New("actor: message too large")
	// ErrTransport: the node's remote transport could not start.
	ErrTransport = errors.New("actor: transport failed")
	// ErrOverloaded: the message was not sent because the queue for its
	// node is full (Limits.MaxPeerQueueBytes): that node does not read
	// (paused, overloaded, a slow link). Nothing of the message was
	// queued. Send, Cast, Call and Forward return it at once; it wraps
	// transport's error, which says how full the queue is. Send and Cast
	// to a local process spawned WithMailboxLimit whose mailbox is full
	// return it too.
	ErrOverloaded = errors.New("actor: node overloaded")

	// ErrUnknownSpawn: the node spawns nothing under that name for other
	// nodes (see Node.AllowSpawn).
	ErrUnknownSpawn = errors.New("actor: unknown spawn name")
	// ErrSpawnRefused: the node allows that name to be spawned, but not by
	// the caller's node.
	ErrSpawnRefused = errors.New("actor: spawn refused")
	// ErrInvalidSpawn: AllowSpawn without a name or a factory, a factory
	// that returned no server, or a malformed spawn request.
	ErrInvalidSpawn = errors.New("actor: invalid spawn")

	// ErrShutdown is the exit reason of an orderly shutdown, as Erlang's
	// shutdown. A reason that wraps it is a shutdown too ({shutdown, Term}).
	ErrShutdown = errors.New("actor: shutdown")
	// ErrKill, sent with Exit, kills a process even if it traps exits; it
	// then exits with ErrKilled, as Erlang's kill.
	ErrKill = errors.New("actor: kill")
	// ErrKilled is the exit reason of a process killed with ErrKill.
	ErrKilled = errors.New("actor: killed")
)

// IsNormalExit reports whether reason ends a process in an orderly way: nil
// (Erlang's normal) or a shutdown. Transient children are restarted only on
// other reasons.
func IsNormalExit(reason error) bool {
	return reason == nil || errors.Is(reason, ErrShutdown)
}

// PanicError is the exit reason of a process whose callback panicked.
type PanicError struct {
	Value any    // what was passed to panic
	Stack []byte // the stack of the panicking goroutine
}

// Error describes the panic.
func (e *PanicError) Error() string { return fmt.Sprintf("actor: panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// RemoteError is an error that crossed a node boundary: only its text
// survives, unless it was one of this package's sentinels, which arrive as
// themselves.
type RemoteError struct {
	Text string
}

// Error returns the remote error's text.
func (e *RemoteError) Error() string { return e.Text }

// Is reports whether the remote error was target, or wrapped it first: the
// text is target's alone or followed by ": " and details, as fmt.Errorf
// with "%w: ..." makes it. So errors.Is works across nodes for any
// package's sentinel errors, provided their texts are distinct, as
// package-prefixed texts are.
func (e *RemoteError) Is(target error) bool {
	if target == nil {
		return false
	}
	t := target.Error()
	return t != "" && (e.Text == t || strings.HasPrefix(e.Text, t+": "))
}

// NodeDownError is ErrNodeDown naming the node that went away, as
// Erlang's {nodedown, Node}: what a call waiting on it, a monitor or a link
// of one of its processes gets on the node that saw it go. Reason, if set,
// says more (a refused handshake, a Disconnect). errors.Is(err,
// ErrNodeDown) holds; across nodes only the text survives, and
// errors.Is(err, ErrNodeDown) still does.
type NodeDownError struct {
	Address string // the node's transport address
	Reason  error
}

// Error names the node, and the reason if any.
func (e *NodeDownError) Error() string {
	if e.Reason != nil {
		return "actor: node down: " + e.Address + ": " + e.Reason.Error()
	}
	return "actor: node down: " + e.Address
}

// Is reports whether target is ErrNodeDown.
func (e *NodeDownError) Is(target error) bool { return target == ErrNodeDown }

// Unwrap returns the reason.
func (e *NodeDownError) Unwrap() error { return e.Reason }

// ExitError is what a caller gets when the process it called exited while
// handling the call.
type ExitError struct {
	PID    *PID
	Reason error
}

// Error says which process exited and why.
func (e *ExitError) Error() string {
	return fmt.Sprintf("actor: %s exited while handling the call: %v", FormatPID(e.PID), e.Reason)
}

// Unwrap returns the exit reason.
func (e *ExitError) Unwrap() error { return e.Reason }
