package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
)

// logBuffer keeps every line the nodes log, at every level, for a test to
// read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// logger is a text logger at debug level into l.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the lines logged so far that contain all of parts.
func (l *logBuffer) lines(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		ok := line != ""
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

func startNode(t *testing.T, name, cookie string, log *slog.Logger) *actor.Node {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0", Cookie: cookie, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopNode(t, n) })
	return n
}

func stopNode(t *testing.T, n *actor.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Errorf("stop %s: %v", n.Name(), err)
	}
}

// waitFor returns the first value of type T from ch, or fails the test
// after 10 s.
func waitFor[T any](t *testing.T, ch <-chan any) T {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case v := <-ch:
			if e, ok := v.(T); ok {
				return e
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T within 10 s", zero)
			return zero
		}
	}
}

// A clean stop of two connected nodes, one with an exchange and a task
// queue, the other with a controller and a worker of them, logs no
// warning, whichever node stops first, or both at once: events that
// cannot go to a node that is stopping, and connections closed during
// their handshake, are not problems.
func TestCleanStopLogsNoWarning(t *testing.T) {
	for _, order := range []string{"exchange's node first", "controller's node first", "both at once"} {
		t.Run(order, func(t *testing.T) {
			var buf logBuffer
			a := startNode(t, "a@localhost", "s3cret", buf.logger())
			b := startNode(t, "b@localhost", "s3cret", buf.logger())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := exchange.Start(ctx, a, exchange.Spec{Name: "prices", Strategy: exchange.LeaderOnly}); err != nil {
				t.Fatal(err)
			}
			if _, err := tasks.Start(ctx, a, tasks.Spec{Name: "jobs"}); err != nil {
				t.Fatal(err)
			}
			events := make(chan any, 100)
			onEvent := func(_ *actor.Process, ev any) { events <- ev }
			for _, n := range []*actor.Node{a, b} {
				c := patterns.NewController(exchange.At(a.Address(), "prices"), func(context.Context, *exchange.Request) (any, error) {
					return wrapperspb.String("42 from " + n.Name()), nil
				})
				c.OnEvent = onEvent
				if _, err := n.Spawn(ctx, c); err != nil {
					t.Fatal(err)
				}
				waitFor[*exchange.Leader](t, events)
			}
			acked := make(chan any, 1)
			w := patterns.NewWorker(exchange.At(a.Address(), "jobs"), 1, func(w *patterns.Worker, task *tasks.Task) {
				acked <- w.Ack(task.Tag)
			})
			w.OnEvent = onEvent
			if _, err := b.Spawn(ctx, w); err != nil {
				t.Fatal(err)
			}
			waitFor[*tasks.WorkerJoined](t, events)
			if _, err := patterns.NewClient(b).Call(ctx, exchange.At(a.Address(), "prices"), wrapperspb.String("tea?")); err != nil {
				t.Fatal(err)
			}
			if err := patterns.NewTasks(b).Submit(ctx, exchange.At(a.Address(), "jobs"), wrapperspb.String("mail")); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-acked:
				if err != nil {
					t.Fatalf("ack: %v", err)
				}
			case <-ctx.Done():
				t.Fatal("the worker got no task within 10 s")
			}

			switch order {
			case "exchange's node first":
				stopNode(t, a)
				stopNode(t, b)
			case "controller's node first":
				stopNode(t, b)
				stopNode(t, a)
			default: // each may dial the other while it stops
				var wg sync.WaitGroup
				for _, n := range []*actor.Node{a, b} {
					wg.Go(func() { stopNode(t, n) })
				}
				wg.Wait() // bounded: each Stop is, by its context
			}
			if bad := append(buf.lines("level=WARN"), buf.lines("level=ERROR")...); len(bad) > 0 {
				t.Fatalf("a clean stop logged:\n%s", strings.Join(bad, "\n"))
			}
		})
	}
}

// A peer with the wrong cookie is still a warning, on both sides, and
// counted.
func TestWrongCookieStillWarns(t *testing.T) {
	var buf logBuffer
	a := startNode(t, "a@localhost", "right", buf.logger())
	c := startNode(t, "c@localhost", "wrong", buf.logger())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := exchange.Start(ctx, a, exchange.Spec{Name: "prices"}); err != nil {
		t.Fatal(err)
	}
	_, err := patterns.NewClient(c).Call(ctx, exchange.At(a.Address(), "prices"), wrapperspb.String("tea?"))
	if !errors.Is(err, actor.ErrNodeDown) {
		t.Fatalf("call with the wrong cookie = %v; want ErrNodeDown", err)
	}
	// The dialer knows once its call fails; the listener logs its side
	// when its handshake ends, which may be a moment later.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if len(buf.lines("level=WARN", `msg="handshake refused"`, "node=a@localhost")) > 0 &&
			len(buf.lines("level=WARN", `msg="handshake refused"`, "node=c@localhost")) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged on both sides within 10 s; the log:\n%s", strings.Join(buf.lines(), "\n"))
		}
	}
	if a.Stats().Refused == 0 || c.Stats().Refused == 0 {
		t.Fatalf("refused: a %d, c %d; want both counted", a.Stats().Refused, c.Stats().Refused)
	}
}
