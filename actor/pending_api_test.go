package actor

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// A request forwarded to other processes, which answer the client directly,
// several times, including from another node.
func TestPendingManyRepliesFromOthers(t *testing.T) {
	a, b := twoNodes(t)
	answer := func(n *Node) *PID {
		return spawn(t, n, &fn{info: func(p *Process, msg any) {
			if r, ok := msg.(ReplyTo); ok {
				p.Node().Reply(r, wrapperspb.String(p.Node().Name()), nil)
			}
		}})
	}
	local, remote := answer(a), answer(b)
	req := a.NewPending(ctxT(t), b.Address(), true)
	defer req.Release()
	rt := req.ReplyTo()
	if err := a.Send(local, rt); err != nil {
		t.Fatal(err)
	}
	// The remote answerer gets the ReplyTo's parts in a protobuf message.
	forward := spawn(t, b, &fn{info: func(p *Process, msg any) {
		if s, ok := msg.(*wrapperspb.UInt64Value); ok {
			_ = p.Send(remote, NewReplyTo(a.Address(), s.Value))
		}
	}})
	if err := a.Send(forward, wrapperspb.UInt64(rt.Ref())); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		v, err := req.Wait(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		got[v.(*wrapperspb.StringValue).Value] = true
	}
	if !got["a@localhost"] || !got["b@localhost"] {
		t.Fatalf("replies from %v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := req.Wait(ctx); !errors.Is(err, ErrTimeout) {
		t.Fatalf("third wait = %v; want ErrTimeout", err)
	}
}

func TestPendingSingleReply(t *testing.T) {
	n := newNode(t, Config{})
	req := n.NewPending(ctxT(t), n.Address(), false)
	n.Reply(req.ReplyTo(), 42, nil)
	n.Reply(req.ReplyTo(), 43, nil) // dropped: one reply only
	if v, err := req.Wait(ctxT(t)); v != 42 || err != nil {
		t.Fatalf("wait = %v, %v", v, err)
	}
	req.Release()
}

func TestNamedPIDFollowsTheName(t *testing.T) {
	a, b := twoNodes(t)
	first := spawn(t, b, &fn{call: func(*Process, any) (any, error) { return wrapperspb.String("first"), nil }}, WithName("svc"))
	named := NamedPID(b.Address(), "svc")
	if v, err := a.Call(ctxT(t), named, wrapperspb.String("?")); err != nil || v.(*wrapperspb.StringValue).Value != "first" {
		t.Fatalf("call by name = %v, %v", v, err)
	}
	b.Exit(first, ErrKill)
	if _, err := a.Call(ctxT(t), named, wrapperspb.String("?")); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("call to a free name = %v; want ErrNoProcess", err)
	}
	spawn(t, b, &fn{call: func(*Process, any) (any, error) { return wrapperspb.String("second"), nil }}, WithName("svc"))
	if v, err := a.Call(ctxT(t), named, wrapperspb.String("?")); err != nil || v.(*wrapperspb.StringValue).Value != "second" {
		t.Fatalf("call after restart = %v, %v", v, err)
	}
	if v, err := b.Call(ctxT(t), NamedPID(b.Address(), "svc"), 1); err != nil || v == nil {
		t.Fatalf("local call by name = %v, %v", v, err)
	}
}

func TestExpectReplyArrivesInMailbox(t *testing.T) {
	n := newNode(t, Config{})
	type wrapped struct {
		v   any
		err error
	}
	infos := make(chan any, 4)
	rts := make(chan ReplyTo, 2)
	spawn(t, n, &fn{infos: infos, init: func(p *Process) error {
		rts <- p.ExpectReply(ctxT(t), n.Address(), func(v any, err error) any { return wrapped{v, err} })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		rts <- p.ExpectReply(ctx, n.Address(), func(v any, err error) any { return wrapped{v, err} })
		return nil
	}})
	answered, unanswered := recv(t, rts), recv(t, rts)
	_ = unanswered
	n.Reply(answered, "hello", nil)
	got := []wrapped{recvInfo[wrapped](t, infos), recvInfo[wrapped](t, infos)}
	var hello, timeout bool
	for _, w := range got {
		hello = hello || w.v == "hello"
		timeout = timeout || errors.Is(w.err, ErrTimeout)
	}
	if !hello || !timeout {
		t.Fatalf("got %+v; want the reply and a timeout", got)
	}
}

func TestRemoteErrorIsSentinel(t *testing.T) {
	sentinel := errors.New("pkg: thing failed")
	cases := map[string]bool{"pkg: thing failed": true, "pkg: thing failed: details": true, "pkg: thing failedX": false, "other": false}
	for text, want := range cases {
		if got := errors.Is(&RemoteError{Text: text}, sentinel); got != want {
			t.Errorf("%q is sentinel: %v; want %v", text, got, want)
		}
	}
}

// Monitors and links accept a NamedPID: they attach to the process that
// holds the name, and fire when it exits, not before.
func TestMonitorAndLinkByName(t *testing.T) {
	n := newNode(t, Config{})
	holder := spawn(t, n, &fn{}, WithName("svc"))
	infos := make(chan any, 4)
	w := spawn(t, n, &fn{infos: infos, init: func(p *Process) error {
		p.Monitor(NamedPID(n.Address(), "svc"))
		p.Link(NamedPID(n.Address(), "svc"))
		return nil
	}}, WithTrapExit())
	if _, err := n.Call(ctxT(t), w, "sync"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-infos:
		t.Fatalf("premature %T %+v", m, m)
	default:
	}
	n.Exit(holder, ErrKill)
	d, e := recvDownAndExit(t, infos)
	if !errors.Is(d.Reason, ErrKilled) || !errors.Is(e.Reason, ErrKilled) || !e.From.Equal(holder) {
		t.Fatalf("down %+v exit %+v", d, e)
	}
}
