package actor

import (
	"errors"
	"testing"
)

// A Local sends as Send to its PID does: to the process while it lives,
// nowhere once it has exited, refused at its mailbox limit; a NamedPID
// and an unknown process have none.
func TestLocalHandle(t *testing.T) {
	n := newNode(t, Config{Name: "local@localhost"})
	infos := make(chan any, 4)
	release := make(chan struct{})
	pid := spawn(t, n, &fn{info: func(_ *Process, msg any) {
		infos <- msg
		if msg == "hold" {
			<-release
		}
	}}, WithMailboxLimit(1), WithName("handled"))

	if _, ok := n.Local(NamedPID(n.Address(), "handled")); ok {
		t.Fatal("a NamedPID has a handle: it would keep the name's process across restarts")
	}
	if _, ok := n.Local(NewPID(n.Address(), "$no-such")); ok {
		t.Fatal("a process that does not exist has a handle")
	}
	var zero Local
	if err := zero.Send(nil, "x"); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("zero Local: Send = %v, want ErrNoProcess", err)
	}

	h, ok := n.Local(pid)
	if !ok || h.PID() != pid || !h.Alive() {
		t.Fatalf("Local(%v) = %v, %v", pid, h.PID(), ok)
	}
	if err := h.Send(nil, "hold"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, infos); got != "hold" {
		t.Fatalf("got %v", got)
	}
	// The process holds "hold": one message fills its mailbox, the next
	// is refused.
	if err := h.Send(nil, "one"); err != nil {
		t.Fatal(err)
	}
	if b, ok := h.Backlog(); !ok || b != 1 {
		t.Fatalf("Backlog = %d, %v; want 1, true", b, ok)
	}
	if err := h.Send(nil, "two"); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Send beyond the mailbox limit = %v, want ErrOverloaded", err)
	}
	close(release)
	if got := recv(t, infos); got != "one" {
		t.Fatalf("got %v, want one", got)
	}

	if err := n.StopProcess(ctxT(t), pid, nil); err != nil {
		t.Fatal(err)
	}
	if h.Alive() {
		t.Fatal("the handle of a stopped process is alive")
	}
	if _, ok := h.Backlog(); ok {
		t.Fatal("Backlog of a stopped process is ok")
	}
	if err := h.Send(nil, "late"); err != nil {
		t.Fatalf("Send to a stopped process = %v, want nil (dropped, as Send)", err)
	}
	select {
	case m := <-infos:
		t.Fatalf("a stopped process got %v", m)
	default:
	}
}
