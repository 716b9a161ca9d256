package actor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/transport"
)

// waitUntil polls cond every millisecond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

// stallProxy forwards connections to a node and can stop forwarding what
// the dialer writes, as a node that stops reading would.
type stallProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	closed bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newStallProxy(t *testing.T, to string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pump(up, c, true)
			go p.pump(c, up, false)
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

// pump copies src to dst, waiting while the proxy is paused if gated.
func (p *stallProxy) pump(dst, src net.Conn, gated bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		if gated {
			p.mu.Lock()
			for p.paused && !p.closed {
				p.cond.Wait()
			}
			p.mu.Unlock()
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				_ = dst.Close()
			}
			return
		}
	}
}

func (p *stallProxy) pause(paused bool) {
	p.mu.Lock()
	p.paused = paused
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *stallProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// A node whose peer stops reading fills that peer's queue to
// MaxPeerQueueBytes; then Cast, Send and Call return ErrOverloaded at
// once, counted, until the peer reads again.
func TestSendToStalledNodeIsOverloaded(t *testing.T) {
	const bound = 256 << 10
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0", Limits: Limits{MaxPeerQueueBytes: bound}})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	pid, _ := echoCounting(t, b)
	px := newStallProxy(t, b.Address())
	via := NewPID(px.addr(), pid.Id) // frames from a to pid go through the proxy
	if _, err := a.Call(ctxT(t), via, wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	px.pause(true)
	msg := wrapperspb.Bytes(make([]byte, 1<<10))
	// fill casts until the queue is full; the proxy may still take a read's
	// worth after the pause, so an operation tried next may fit: it is
	// tried again after another fill.
	casts := 0
	fill := func() error {
		for start := time.Now(); time.Since(start) < 30*time.Second; casts++ {
			if err := a.Cast(via, msg); err != nil {
				return err
			}
		}
		t.Fatalf("no error after %d casts in 30 s", casts)
		return nil
	}
	err := fill()
	if !errors.Is(err, ErrOverloaded) || !errors.Is(err, transport.ErrOverloaded) {
		t.Fatalf("cast = %v; want ErrOverloaded", err)
	}
	t.Logf("%d casts of 1 KiB sent, then %v", casts, err)
	overloaded := func(what string, op func() error) {
		t.Helper()
		var err error
		for range 100 {
			_ = fill()
			if err = op(); errors.Is(err, ErrOverloaded) {
				return
			}
		}
		t.Fatalf("%s = %v; want ErrOverloaded", what, err)
	}
	overloaded("send", func() error { return a.Send(via, msg) })
	overloaded("call", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := a.Call(ctx, via, msg)
		if d := time.Since(start); errors.Is(err, ErrOverloaded) && d > 500*time.Millisecond {
			t.Fatalf("the overloaded call took %v; want at once", d)
		}
		return err
	})
	s := a.Stats()
	if s.Overloaded < 3 || s.QueuedBytes > bound {
		t.Fatalf("stats %+v; want 3 overloaded or more, at most %d bytes queued", s, bound)
	}
	px.pause(false)
	waitUntil(t, "casts go again", func() bool { return a.Cast(via, msg) == nil })
	if _, err := a.Call(ctxT(t), via, wrapperspb.String("again")); err != nil {
		t.Fatalf("call after the peer reads again: %v", err)
	}
}

// Node.Stats().BadFrames counts the frames the transport refused too (it
// stayed at 0 while the transport counted them).
func TestBadFramesCountsTheTransports(t *testing.T) {
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0", MaxFrameSize: 1000, Logger: slog.New(slog.DiscardHandler)})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	pid, got := echoCounting(t, a)
	if err := b.Cast(pid, wrapperspb.Bytes(make([]byte, 2000))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the bad frame is counted", func() bool { return a.Stats().BadFrames == 1 })
	if got.Load() != 0 {
		t.Fatal("the oversized frame was delivered")
	}
}
