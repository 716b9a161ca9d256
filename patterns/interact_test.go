package patterns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// interactSetup starts an exchange "i" and an interaction controller with
// h: all in one node, or the client on a, the exchange on b and the
// controller on c.
func interactSetup(t *testing.T, remote bool, h InteractHandler) (*Client, exchange.Address, *actor.Node, *actor.PID) {
	t.Helper()
	a := node(t, "a@localhost", remote)
	b, c := a, a
	if remote {
		b, c = node(t, "b@localhost", true), node(t, "c@localhost", true)
	}
	startExchange(t, b, exchange.Spec{Name: "i", Strategy: exchange.RoundRobin})
	ex := exchange.At(b.Address(), "i")
	events := make(chan any, 100)
	ic := NewInteractController(ex, h)
	ic.OnEvent = func(_ *actor.Process, ev any) { events <- ev }
	pid, err := c.Spawn(ctxT(t), ic)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent[*exchange.Leader](t, events)
	return NewClient(a), ex, c, pid
}

func bothWays(t *testing.T, f func(t *testing.T, remote bool)) {
	t.Run("node", func(t *testing.T) { f(t, false) })
	t.Run("nodes", func(t *testing.T) { f(t, true) })
}

// form asks for a name, then for a confirmation, and greets.
func form(ctx context.Context, req *exchange.Request, ask Ask) (any, error) {
	id := str(req.Msg)
	name, err := ask(ctx, wrapperspb.String(id+": name?"))
	if err != nil {
		return nil, err
	}
	ok, err := ask(ctx, wrapperspb.String(id+": confirm "+str(name)+"?"))
	if err != nil {
		return nil, err
	}
	if str(ok) != "yes" {
		return nil, errors.New("patterns-test: not confirmed")
	}
	return wrapperspb.String(id + ": hello " + str(name)), nil
}

// formAnswers answers form's questions for interaction id, checking that
// they are its own.
func formAnswers(id string) func(context.Context, any) (any, error) {
	return func(_ context.Context, q any) (any, error) {
		text := str(q)
		switch {
		case text == id+": name?":
			return wrapperspb.String("name-" + id), nil
		case text == id+": confirm name-"+id+"?":
			return wrapperspb.String("yes"), nil
		}
		return nil, fmt.Errorf("interaction %s got the question %q", id, text)
	}
}

func TestInteractAsksThenReplies(t *testing.T) {
	bothWays(t, func(t *testing.T, remote bool) {
		cl, ex, _, _ := interactSetup(t, remote, form)
		v, err := cl.Interact(ctxT(t), ex, wrapperspb.String("7"), formAnswers("7"))
		if err != nil || str(v) != "7: hello name-7" {
			t.Fatalf("got %v, %v", v, err)
		}
		// A plain controller asks nothing: Interact is a Call.
		startExchange(t, cl.n, exchange.Spec{Name: "p", Strategy: exchange.RoundRobin})
		ctrl(t, cl.n, exchange.Named("p"), "plain", "", "")
		if v, err := cl.Interact(ctxT(t), exchange.Named("p"), wrapperspb.String("x"), formAnswers("x")); err != nil || str(v) != "plain" {
			t.Fatalf("a plain controller: %v, %v", v, err)
		}
	})
}

// Many interactions from one client at once: every handler waits until all
// have their first answer before asking the second question, so all are
// in flight together; no answer reaches another interaction.
func TestInteractionsInterleaved(t *testing.T) {
	bothWays(t, func(t *testing.T, remote bool) {
		const n = 8
		var mu sync.Mutex
		arrived, all := 0, make(chan struct{})
		h := func(ctx context.Context, req *exchange.Request, ask Ask) (any, error) {
			id := str(req.Msg)
			name, err := ask(ctx, wrapperspb.String(id+": name?"))
			if err != nil {
				return nil, err
			}
			if str(name) != "name-"+id {
				return nil, fmt.Errorf("interaction %s got the answer %q", id, str(name))
			}
			mu.Lock()
			if arrived++; arrived == n {
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			ok, err := ask(ctx, wrapperspb.String(id+": confirm "+str(name)+"?"))
			if err != nil || str(ok) != "yes" {
				return nil, fmt.Errorf("interaction %s: confirm %v %v", id, str(ok), err)
			}
			return wrapperspb.String(id + ": hello " + str(name)), nil
		}
		cl, ex, _, _ := interactSetup(t, remote, h)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprint(i)
				v, err := cl.Interact(ctxT(t), ex, wrapperspb.String(id), formAnswers(id))
				if err != nil || str(v) != id+": hello name-"+id {
					t.Errorf("interaction %s: %v, %v", id, str(v), err)
				}
			}()
		}
		wg.Wait()
	})
}

var errNoIdea = errors.New("patterns-test: no idea")

// The client's answer fails: Interact returns its error at once, the
// controller's ask gets ErrAnswerFailed, later asks ErrInteractionOver, and
// the final reply goes nowhere.
func TestInteractAnswerFails(t *testing.T) {
	bothWays(t, func(t *testing.T, remote bool) {
		asked := make(chan [2]error, 1)
		h := func(ctx context.Context, req *exchange.Request, ask Ask) (any, error) {
			_, err := ask(ctx, wrapperspb.String("name?"))
			_, again := ask(ctx, wrapperspb.String("again?"))
			asked <- [2]error{err, again}
			return wrapperspb.String("final"), nil
		}
		cl, ex, _, _ := interactSetup(t, remote, h)
		_, err := cl.Interact(ctxT(t), ex, wrapperspb.String("x"), func(context.Context, any) (any, error) {
			return nil, errNoIdea
		})
		if !errors.Is(err, ErrAnswerFailed) || !errors.Is(err, errNoIdea) {
			t.Fatalf("Interact = %v", err)
		}
		var errs [2]error
		select {
		case errs = <-asked:
		case <-time.After(10 * time.Second):
			t.Fatal("the handler's ask did not return")
		}
		if !errors.Is(errs[0], ErrAnswerFailed) || !strings.Contains(errs[0].Error(), errNoIdea.Error()) || !errors.Is(errs[1], ErrInteractionOver) {
			t.Fatalf("ask = %v, then %v", errs[0], errs[1])
		}
		// An answer that panics: the controller is told, the panic goes on.
		func() {
			defer func() {
				if r := recover(); r != "answer exploded" {
					t.Fatalf("recovered %v", r)
				}
			}()
			_, _ = cl.Interact(ctxT(t), ex, wrapperspb.String("x"), func(context.Context, any) (any, error) { panic("answer exploded") })
		}()
		if errs = recvWithin(t, asked, "the handler's ask did not return"); !errors.Is(errs[0], ErrAnswerFailed) {
			t.Fatalf("after a panicking answer, ask = %v", errs[0])
		}
	})
}

func TestInteractHandlerErrors(t *testing.T) {
	bothWays(t, func(t *testing.T, remote bool) {
		h := func(ctx context.Context, req *exchange.Request, ask Ask) (any, error) {
			switch str(req.Msg) {
			case "panic":
				if _, err := ask(ctx, wrapperspb.String("sure?")); err != nil {
					return nil, err
				}
				panic("handler exploded")
			case "plain-question":
				_, err := ask(ctx, "not a protobuf message")
				if remote != errors.Is(err, actor.ErrNotSerializable) {
					return nil, fmt.Errorf("ask with a plain string: %v", err)
				}
				return ask(ctx, wrapperspb.String("then this?"))
			case "none":
				return wrapperspb.String("no questions"), nil
			}
			return nil, errDisk
		}
		cl, ex, _, _ := interactSetup(t, remote, h)
		yes := func(context.Context, any) (any, error) { return wrapperspb.String("yes"), nil }
		if _, err := cl.Interact(ctxT(t), ex, wrapperspb.String("panic"), yes); !errors.Is(err, ErrInteractionCrashed) || !strings.Contains(err.Error(), "handler exploded") {
			t.Fatalf("panic: %v", err)
		}
		if v, err := cl.Interact(ctxT(t), ex, wrapperspb.String("plain-question"), yes); err != nil || str(v) != "yes" {
			t.Fatalf("plain question: %v, %v", v, err)
		}
		if v, err := cl.Interact(ctxT(t), ex, wrapperspb.String("none"), yes); err != nil || str(v) != "no questions" {
			t.Fatalf("no question: %v, %v", v, err)
		}
		if _, err := cl.Interact(ctxT(t), ex, wrapperspb.String("fail"), yes); !errors.Is(err, errDisk) {
			t.Fatalf("error: %v", err)
		}
	})
}

// The controller is killed while its client thinks about an answer: the
// client gets the controller's exit as soon as it answers, and the
// controller's node going away ends an interaction at once.
func TestInteractControllerGoes(t *testing.T) {
	bothWays(t, func(t *testing.T, remote bool) {
		cancelled := make(chan struct{})
		cl, ex, owner, pid := interactSetup(t, remote, func(ctx context.Context, req *exchange.Request, ask Ask) (any, error) {
			context.AfterFunc(ctx, func() { close(cancelled) })
			return form(ctx, req, ask)
		})
		start := time.Now()
		_, err := cl.Interact(ctxT(t), ex, wrapperspb.String("k"), func(context.Context, any) (any, error) {
			owner.Exit(pid, actor.ErrKill)
			select { // the handler's context ends soon after the kill
			case <-cancelled:
			case <-time.After(10 * time.Second):
				t.Error("the handler's context did not end")
			}
			return wrapperspb.String("late"), nil
		})
		if !errors.Is(err, actor.ErrKilled) || time.Since(start) > 2*time.Second {
			t.Fatalf("after the kill: %v, %v later", err, time.Since(start))
		}
		if !remote {
			return
		}
		cl, ex, owner, _ = interactSetup(t, remote, form)
		start = time.Now()
		_, err = cl.Interact(ctxT(t), ex, wrapperspb.String("k"), func(context.Context, any) (any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = owner.Stop(ctx)
			return wrapperspb.String("late"), nil
		})
		if !errors.Is(err, actor.ErrNodeDown) || time.Since(start) > 2*time.Second {
			t.Fatalf("after the controller's node stopped: %v, %v later", err, time.Since(start))
		}
	})
}

// The client's node goes away while it answers: the controller's ask
// returns actor.ErrNodeDown at once.
func TestInteractClientNodeGoes(t *testing.T) {
	asked := make(chan error, 1)
	cl, ex, _, _ := interactSetup(t, true, func(ctx context.Context, req *exchange.Request, ask Ask) (any, error) {
		_, err := ask(ctx, wrapperspb.String("name?"))
		asked <- err
		return nil, err
	})
	start := time.Now()
	_, err := cl.Interact(ctxT(t), ex, wrapperspb.String("x"), func(context.Context, any) (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = cl.n.Stop(ctx)
		return wrapperspb.String("too late"), nil
	})
	if err == nil {
		t.Fatal("Interact on a stopped node succeeded")
	}
	select {
	case err := <-asked:
		if !errors.Is(err, actor.ErrNodeDown) || time.Since(start) > 2*time.Second {
			t.Fatalf("ask = %v, %v later", err, time.Since(start))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ask did not return")
	}
}
