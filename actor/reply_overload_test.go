package actor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// A reply that does not fit the queue to its caller's node is dropped, and
// the caller is told with ErrOverloaded as soon as its node reads again,
// instead of waiting for its deadline. The client's reader of the server's
// connection is held (a node that does not read), the server fills its
// queue to the client with casts and then answers a call of the client
// with a value that does not fit; every call is then answered at once,
// with its value or, if its reply was dropped, ErrOverloaded.
func TestDroppedReplyIsToldToTheCaller(t *testing.T) {
	const bound = 256 << 10
	// Long ticks: the client's reader is held on purpose.
	server := newNode(t, Config{Name: "server@localhost", Listen: "127.0.0.1:0", TickTime: time.Minute, Limits: Limits{MaxPeerQueueBytes: bound}})
	client := newNode(t, Config{Name: "client@localhost", Listen: "127.0.0.1:0", TickTime: time.Minute})
	gate, stalled := make(chan struct{}), make(chan struct{}, 1)
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // before the nodes stop
	// A call "stall" from the server holds the client's reader of the
	// server's connection, which carries the server's replies too.
	stall := spawn(t, client, &fn{init: func(p *Process) error {
		p.HandleDirect(func(msg any, rt ReplyTo) bool {
			if s, ok := msg.(*wrapperspb.StringValue); !ok || s.Value != "stall" {
				return false
			}
			stalled <- struct{}{}
			<-gate
			client.Reply(rt, msg, nil)
			return true
		})
		return nil
	}})
	sink := spawn(t, client, &fn{})
	filled := make(chan int, 100)
	answering := spawn(t, server, &fn{call: func(p *Process, msg any) (any, error) {
		if s, ok := msg.(*wrapperspb.StringValue); !ok || s.Value != "answer" {
			return msg, nil
		}
		// Fill with small casts, until one as large as the reply does not
		// fit either (the sockets may take more meanwhile).
		small, large := wrapperspb.Bytes(make([]byte, 1<<10)), wrapperspb.Bytes(make([]byte, 64<<10))
		casts := 0
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); casts++ {
			if err := server.Cast(sink, small); !errors.Is(err, ErrOverloaded) {
				continue
			}
			if err := server.Cast(sink, large); errors.Is(err, ErrOverloaded) {
				break
			}
		}
		filled <- casts
		return large, nil
	}})
	stallErr := make(chan error, 1)
	go func() {
		_, err := server.Call(ctxT(t), stall, wrapperspb.String("stall"))
		stallErr <- err
	}()
	recv(t, stalled)

	// The sockets take more as their buffers grow, so a reply may still
	// fit after a fill: calls go one after the other until one reply did
	// not (the buffers are full by then).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	answers := make(chan error, 100)
	calls := 0
	for server.Stats().RepliesDropped == 0 {
		if calls == cap(answers) {
			t.Fatalf("no reply dropped after %d calls", calls)
		}
		calls++
		go func() {
			_, err := client.Call(ctx, answering, wrapperspb.String("answer"))
			answers <- err
		}()
		recv(t, filled) // the process answers in turn: the previous reply has been tried
	}
	t.Logf("a reply dropped after %d calls or fewer", calls)
	release()
	start := time.Now()
	told := 0
	for range calls {
		select {
		case err := <-answers:
			switch {
			case errors.Is(err, ErrOverloaded):
				told++
			case err != nil:
				t.Fatalf("a call: %v; want a value or ErrOverloaded", err)
			}
		case <-ctx.Done():
			t.Fatalf("a call whose reply was dropped waited for its deadline (%d of %d told)", told, calls)
		}
	}
	t.Logf("%d of %d calls told ErrOverloaded within %v of the client reading again", told, calls, time.Since(start))
	if s := server.Stats(); told == 0 || uint64(told) != s.RepliesDropped || s.RepliesLost != 0 {
		t.Fatalf("%d told, %d replies dropped, %d lost; want as many told as dropped, none lost", told, s.RepliesDropped, s.RepliesLost)
	}
	if err := recv(t, stallErr); err != nil {
		t.Fatalf("the stalled call: %v", err)
	}
	if _, err := client.Call(ctxT(t), answering, wrapperspb.String("again")); err != nil {
		t.Fatalf("a call after the client reads again: %v", err)
	}
}
