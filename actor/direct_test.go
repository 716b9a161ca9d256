package actor

import (
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// A call that a caller of the process's own node forwards with its
// Pending's ReplyTo reaches the process's direct hook on the caller's
// goroutine, even while the process's goroutine is busy; a call the hook
// forwards with the ReplyTo it got goes to the target's mailbox, not to
// the target's hook, even when the target is the hook's own process (no
// recursion); a call with some other ReplyTo goes to the mailbox.
func TestDirectHookTakesLocalForwards(t *testing.T) {
	n := newNode(t, Config{Name: "a@localhost"})
	gate, busy := make(chan struct{}), make(chan struct{}, 1)
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	var hooked []string
	var mu sync.Mutex
	var self *PID
	pid := spawn(t, n, &fn{
		init: func(p *Process) error {
			self = p.Self()
			p.HandleDirect(func(msg any, rt ReplyTo) bool {
				s, ok := msg.(*wrapperspb.StringValue)
				if !ok {
					return false
				}
				mu.Lock()
				hooked = append(hooked, s.Value)
				mu.Unlock()
				switch s.Value {
				case "direct":
					n.Reply(rt, wrapperspb.String("hook"), nil)
					return true
				case "again": // forwarded on to this same process: its mailbox
					if err := n.Forward(self, wrapperspb.String("looped"), rt); err != nil {
						n.Reply(rt, nil, err)
					}
					return true
				}
				return false
			})
			return nil
		},
		call: func(_ *Process, msg any) (any, error) {
			if msg.(*wrapperspb.StringValue).Value == "block" {
				busy <- struct{}{}
				<-gate
			}
			return wrapperspb.String("mailbox:" + msg.(*wrapperspb.StringValue).Value), nil
		},
	})
	forward := func(msg string, rt func(Pending) ReplyTo) string {
		t.Helper()
		pend := n.NewPending(ctxT(t), n.Address(), false)
		defer pend.Release()
		if err := n.Forward(pid, wrapperspb.String(msg), rt(pend)); err != nil {
			t.Fatal(err)
		}
		v, err := pend.Wait(ctxT(t))
		if err != nil {
			t.Fatalf("%s: %v", msg, err)
		}
		return v.(*wrapperspb.StringValue).Value
	}
	own := func(p Pending) ReplyTo { return p.ReplyTo() }
	rebuilt := func(p Pending) ReplyTo { return NewReplyTo(p.ReplyTo().Address(), p.ReplyTo().Ref()) }

	blocked := make(chan error, 1)
	go func() {
		_, err := n.Call(ctxT(t), pid, wrapperspb.String("block"))
		blocked <- err
	}()
	recv(t, busy)
	if got := forward("direct", own); got != "hook" {
		t.Fatalf("forward to a busy process = %q; want the hook's answer", got)
	}
	release()
	if err := recv(t, blocked); err != nil {
		t.Fatal(err)
	}
	if got := forward("again", own); got != "mailbox:looped" {
		t.Fatalf("hook forwarding to its own process = %q; want its mailbox's answer", got)
	}
	if got := forward("direct", rebuilt); got != "mailbox:direct" {
		t.Fatalf("forward with a ReplyTo not a Pending's own = %q; want the mailbox's answer", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"direct", "again"}; len(hooked) != len(want) || hooked[0] != want[0] || hooked[1] != want[1] {
		t.Fatalf("the hook saw %q; want %q", hooked, want)
	}
}
