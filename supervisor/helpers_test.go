package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// worker records its life in log: start:ID and stop:ID.
type worker struct {
	actor.BaseServer
	id    string
	log   chan<- string
	hang  chan struct{} // if set, Terminate records stopping:ID and blocks on it
	fails error         // if set, Init fails with it
}

func (w *worker) Init(*actor.Process) error {
	if w.fails != nil {
		return w.fails
	}
	w.log <- "start:" + w.id
	return nil
}

func (w *worker) HandleCall(p *actor.Process, msg any) (any, error) {
	switch msg {
	case "crash":
		panic("crash " + w.id)
	case "normal":
		p.Stop(nil)
	case "fail":
		p.Stop(errors.New("fail"))
	}
	return w.id, nil
}

func (w *worker) Terminate(*actor.Process, error) {
	if w.hang != nil {
		w.log <- "stopping:" + w.id
		<-w.hang
		return
	}
	w.log <- "stop:" + w.id
}

type fixture struct {
	t   *testing.T
	n   *actor.Node
	log chan string
}

func newFixture(t *testing.T) *fixture {
	n, err := actor.Start(actor.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	return &fixture{t: t, n: n, log: make(chan string, 1000)}
}

func (f *fixture) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	f.t.Cleanup(cancel)
	return ctx
}

func (f *fixture) worker(id string) ChildSpec {
	return Worker(id, func() actor.Server { return &worker{id: id, log: f.log} })
}

func (f *fixture) start(spec Spec) *actor.PID {
	f.t.Helper()
	pid, err := Start(f.ctx(), f.n, spec)
	if err != nil {
		f.t.Fatalf("start supervisor: %v", err)
	}
	return pid
}

// expect waits for exactly these next events, in order.
func (f *fixture) expect(events ...string) {
	f.t.Helper()
	for _, want := range events {
		select {
		case got := <-f.log:
			if got != want {
				f.t.Fatalf("event %q; want %q (sequence %v)", got, want, events)
			}
		case <-time.After(10 * time.Second):
			f.t.Fatalf("timed out waiting for %q (sequence %v)", want, events)
		}
	}
}

// quiet checks that no further event is pending once sup has handled
// everything sent to it before (a call is answered after them).
func (f *fixture) quiet(sup *actor.PID) {
	f.t.Helper()
	if _, err := WhichChildren(f.ctx(), f.n, sup); err != nil {
		f.t.Fatal(err)
	}
	select {
	case ev := <-f.log:
		f.t.Fatalf("unexpected event %q", ev)
	default:
	}
}

func (f *fixture) pids(sup *actor.PID) map[string]*actor.PID {
	f.t.Helper()
	cs, err := WhichChildren(f.ctx(), f.n, sup)
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]*actor.PID{}
	for _, c := range cs {
		m[c.ID] = c.PID
	}
	return m
}

func (f *fixture) crash(pid *actor.PID) {
	f.t.Helper()
	if _, err := f.n.Call(f.ctx(), pid, "crash"); err == nil {
		f.t.Fatal("crash call succeeded")
	}
}

func same(a, b *actor.PID) bool { return a != nil && b != nil && a.Equal(b) }

func describe(m map[string]*actor.PID) string { return fmt.Sprint(m) }

type (
	ctxT  = context.Context
	procT = *actor.Process
	pidT  = *actor.PID
)

// monitor returns the Down of pid, from a monitor in place when it returns.
func (f *fixture) monitor(pid *actor.PID) <-chan actor.Down {
	downs, cancel := f.n.Watch(pid)
	f.t.Cleanup(cancel)
	return downs
}

func (f *fixture) down(ch <-chan actor.Down) error {
	f.t.Helper()
	select {
	case d := <-ch:
		return d.Reason
	case <-time.After(10 * time.Second):
		f.t.Fatal("no Down")
		return nil
	}
}
