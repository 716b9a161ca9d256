package actor

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/internal/transport/tlstest"
)

// logWatch is a slog handler that signals ch for every record whose
// message is msg (dropping the signal if ch is full) and discards the rest.
type logWatch struct {
	msg string
	ch  chan struct{}
}

// watchLog returns a logger that signals the returned channel for every
// record with message msg.
func watchLog(msg string) (*slog.Logger, chan struct{}) {
	w := logWatch{msg: msg, ch: make(chan struct{}, 10)}
	return slog.New(w), w.ch
}

func (w logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w logWatch) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message == w.msg {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
	return nil
}
func (w logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w logWatch) WithGroup(string) slog.Handler      { return w }

// echoCounting spawns an echo process on n that counts the calls and other
// messages it gets.
func echoCounting(t *testing.T, n *Node) (*PID, *atomic.Int64) {
	got := new(atomic.Int64)
	pid := spawn(t, n, &fn{
		call: func(_ *Process, msg any) (any, error) { got.Add(1); return msg, nil },
		info: func(*Process, any) { got.Add(1) },
	})
	return pid, got
}

// refusedFast checks that a call from n to pid failed at once with
// ErrNodeDown because the handshake was refused, not with a timeout.
func refusedFast(t *testing.T, n *Node, pid *PID) {
	t.Helper()
	start := time.Now()
	_, err := n.Call(ctxT(t), pid, wrapperspb.String("let me in"))
	if !errors.Is(err, ErrNodeDown) || !errors.Is(err, transport.ErrHandshake) {
		t.Fatalf("call = %v; want ErrNodeDown from a refused handshake", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the refused call took %v", d)
	}
}

func TestCookie(t *testing.T) {
	log, warns := watchLog("handshake refused")
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0", Cookie: "right", Logger: log})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0", Cookie: "right"})
	pid, calls := echoCounting(t, a)
	for _, cookie := range []string{"wrong", ""} {
		c := newNode(t, Config{Name: "c@localhost", Listen: "127.0.0.1:0", Cookie: cookie, Logger: slog.New(slog.DiscardHandler)})
		refusedFast(t, c, pid)
		if err := c.Send(pid, wrapperspb.String("cast")); err != nil {
			t.Fatal(err)
		}
		// A monitor from the refused node fires at once too.
		infos := make(chan any, 1)
		spawn(t, c, &fn{infos: infos, init: func(p *Process) error { p.Monitor(pid); return nil }})
		if d := recvInfo[Down](t, infos); !errors.Is(d.Reason, ErrNodeDown) {
			t.Fatalf("down = %+v; want ErrNodeDown", d)
		}
		if got := c.Stats().Refused; got == 0 {
			t.Fatal("the dialer did not count its refused handshakes")
		}
	}
	for range 2 { // the handshakes of the two calls (the send and the monitor may share them)
		recv(t, warns)
	}
	if got := a.Stats().Refused; got < 2 {
		t.Fatalf("a refused %d handshakes; want at least 2", got)
	}
	// a still runs and serves a node with its cookie; nothing from the
	// others reached its process.
	if _, err := b.Call(ctxT(t), pid, wrapperspb.String("friend")); err != nil {
		t.Fatalf("right cookie: %v", err)
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("the process got %d messages; want only the friend's call", got)
	}
}

func TestTLS(t *testing.T) {
	ca, other := tlstest.NewCA(t, "cluster"), tlstest.NewCA(t, "other")
	quiet := slog.New(slog.DiscardHandler)
	log, warns := watchLog("handshake refused")
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0", TLS: ca.Config(t, "a"), Logger: log})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0", TLS: ca.Config(t, "b"), Logger: quiet})
	pid, calls := echoCounting(t, a)
	if _, err := b.Call(ctxT(t), pid, wrapperspb.String("same CA")); err != nil {
		t.Fatalf("same CA: %v", err)
	}
	rogueCfg := other.Config(t, "rogue")
	rogueCfg.RootCAs = ca.Pool() // it trusts a, but a does not trust it
	rogue := newNode(t, Config{Name: "rogue@localhost", Listen: "127.0.0.1:0", TLS: rogueCfg, Logger: quiet})
	refusedFast(t, rogue, pid)
	plain := newNode(t, Config{Name: "plain@localhost", Listen: "127.0.0.1:0", Logger: quiet})
	refusedFast(t, plain, pid)
	if got := calls.Load(); got != 1 {
		t.Fatalf("the process got %d messages; want 1", got)
	}
	recv(t, warns)
	recv(t, warns)
	if got := a.Stats().Refused; got != 2 {
		t.Fatalf("a refused %d handshakes; want 2", got)
	}
}

func TestDisconnect(t *testing.T) {
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	log, downs := watchLog("peer down")
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0", Logger: log})
	release, handling := make(chan struct{}), make(chan struct{}, 1)
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // before the nodes stop
	target := spawn(t, b, &fn{call: func(_ *Process, msg any) (any, error) {
		if s, ok := msg.(*wrapperspb.StringValue); ok && s.Value == "block" {
			handling <- struct{}{}
			<-release
		}
		return msg, nil
	}})
	infos := make(chan any, 8)
	watcher := spawn(t, a, &fn{infos: infos, call: func(p *Process, _ any) (any, error) {
		return p.Monitor(target), nil
	}})
	ref, err := a.Call(ctxT(t), watcher, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Frames keep their order: once this call is answered, the monitor is
	// in place.
	if _, err := a.Call(ctxT(t), target, wrapperspb.String("sync")); err != nil {
		t.Fatal(err)
	}
	callErr := make(chan error, 1)
	go func() {
		_, err := a.Call(ctxT(t), target, wrapperspb.String("block"))
		callErr <- err
	}()
	recv(t, handling) // the call is pending on a
	a.Disconnect(b.Address())
	if err := recv(t, callErr); !errors.Is(err, ErrNodeDown) || !errors.Is(err, transport.ErrDisconnected) {
		t.Fatalf("pending call = %v; want ErrNodeDown", err)
	}
	d := recvInfo[Down](t, infos)
	if d.Ref != ref.(Ref) || !d.PID.Equal(target) || !errors.Is(d.Reason, ErrNodeDown) {
		t.Fatalf("down = %+v; want ref %v, ErrNodeDown", d, ref)
	}
	// A new call dials anew. (b first sees both of its connections with a
	// break: a reply written into its old one before it notices is lost,
	// as with any broken connection.)
	recv(t, downs)
	recv(t, downs)
	unblock()
	if _, err := a.Call(ctxT(t), target, wrapperspb.String("again")); err != nil {
		t.Fatalf("call after Disconnect: %v", err)
	}
}
