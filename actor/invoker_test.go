package actor

import (
	"errors"
	"log/slog"
	"testing"
	"time"
)

// A process's mailbox holds what reaches it while it is being started
// (through its name, or from a linked parent) until startMailbox, and
// then runs Init before those messages, in their order. The process is
// built as startProcess builds it, without being findable.
func TestInitBeforeQueuedMessages(t *testing.T) {
	n := newNode(t, Config{})
	events := make(chan any, 16)
	p := &Process{node: n, pid: NewPID(n.addr, processID(n.ids.Add(1))), initCh: make(chan error, 1),
		server: &fn{init: func(*Process) error { events <- "init"; return nil }, infos: events}}
	t.Cleanup(func() { p.kill(ErrKilled) })
	p.openMailbox()
	const queued = 10
	for i := range queued {
		if !p.enqueue(i) {
			t.Fatalf("message %d refused", i)
		}
	}
	// Nothing may run before startMailbox; a run would show within this
	// bound (on a loaded machine it may not: then the check passes).
	select {
	case ev := <-events:
		t.Fatalf("%v handled before the mailbox was started", ev)
	case <-time.After(100 * time.Millisecond):
	}
	if got := p.backlog(); got != queued {
		t.Fatalf("backlog = %d; want %d", got, queued)
	}
	p.startMailbox()
	if ev := recv(t, events); ev != "init" {
		t.Fatalf("first event %v; want init", ev)
	}
	for i := range queued {
		if ev := recv(t, events); ev != i {
			t.Fatalf("event %v; want message %d", ev, i)
		}
	}
}

// What protoactor's mailbox escalates (a panic outside the callbacks'
// own recovery) crashes the process as a callback's panic does: its
// caller gets an ExitError with a PanicError, a monitor a Down with it,
// and the crash is counted.
func TestEscalatedFailureCrashesTheProcess(t *testing.T) {
	n := newNode(t, Config{Logger: slog.New(slog.DiscardHandler)})
	pid := spawn(t, n, &fn{call: func(p *Process, _ any) (any, error) {
		(*invoker)(p).EscalateFailure("boom", nil)
		return nil, nil
	}})
	down, cancel := n.Watch(pid)
	defer cancel()
	crashes := n.Stats().Crashes
	_, err := n.Call(ctxT(t), pid, "escalate")
	var ee *ExitError
	var pe *PanicError
	if !errors.As(err, &ee) || !errors.As(ee.Reason, &pe) || pe.Value != "boom" {
		t.Fatalf("Call = %v; want an ExitError with PanicError boom", err)
	}
	if d := recv(t, down); !errors.As(d.Reason, &pe) {
		t.Fatalf("Down reason = %v; want the PanicError", d)
	}
	if n.Alive(pid) || n.Stats().Crashes != crashes+1 {
		t.Fatalf("alive %v, crashes %d; want dead, %d", n.Alive(pid), n.Stats().Crashes, crashes+1)
	}
}
