package patterns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/childtest"
)

// The client's node goes away in the middle of a stream: the producer's
// context ends with actor.ErrNodeDown and its send fails.
func TestStreamClientNodeDies(t *testing.T) {
	p := newCounting(-1)
	cl, ex, _, a, _, _ := streamThreeNodes(t, p.handler)
	paused, resume := make(chan struct{}), make(chan struct{})
	loopDone := make(chan error, 1)
	go func() {
		got := 0
		for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("go"), WithWindow(4)) {
			if err != nil {
				loopDone <- err
				return
			}
			if got++; got == 5 {
				close(paused)
				<-resume
			}
		}
		loopDone <- nil
	}()
	select {
	case <-paused:
	case err := <-loopDone:
		t.Fatalf("the stream ended before its fifth chunk: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no fifth chunk within 10 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	e := p.wait(t)
	checkStopped(t, e, actor.ErrNodeDown)
	close(resume)
	if err := recvWithin(t, loopDone, "the stopped client's loop did not end"); !errors.Is(err, actor.ErrNodeStopped) {
		t.Fatalf("the stopped client's loop ended with %v", err)
	}
}

// The producer's node is another OS process, killed with SIGKILL in the
// middle of a stream: the client's iteration ends with actor.ErrNodeDown
// at once, not at a deadline.
func TestStreamAcrossProcessesProducerNodeKilled(t *testing.T) {
	a, b := node(t, "a@localhost", true), node(t, "b@localhost", true)
	startExchange(t, b, exchange.Spec{Name: "s", Strategy: exchange.RoundRobin})
	child := startStreamChild(t, b.Address(), "s")
	waitMembers(t, b, exchange.Named("s"), 1)
	cl := NewClient(a)
	got := 0
	var last error
	var killed time.Time
	for v, err := range cl.Stream(ctxT(t), exchange.At(b.Address(), "s"), wrapperspb.String("go")) {
		if err != nil {
			last = err
			break
		}
		if num(v) != uint64(got) {
			t.Fatalf("chunk %d is %v", got, v)
		}
		if got++; got == 100 {
			if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = time.Now()
		}
	}
	took := time.Since(killed)
	if !errors.Is(last, actor.ErrNodeDown) || took > 2*time.Second {
		t.Fatalf("after the kill: %v, %v later", last, took)
	}
	t.Logf("the loop ended %v after SIGKILL, with %v", took, last)
}

const streamChildEnv = "SWITCHBOARD_PATTERNS_STREAM_CHILD"

// A test binary started with streamChildEnv runs a node with a stream
// controller (an endless stream of numbers) and nothing else: it lives
// until its stdin closes or it is killed.
func init() {
	v := os.Getenv(streamChildEnv)
	if v == "" {
		return
	}
	addr, name, _ := strings.Cut(v, ",")
	serveChild(func(joined func()) actor.Server {
		c := NewStreamController(exchange.At(addr, name), newCounting(-1).handler)
		c.OnEvent = func(_ *actor.Process, ev any) {
			if _, ok := ev.(*exchange.Leader); ok {
				joined()
			}
		}
		return c
	})
}

func startStreamChild(t *testing.T, exchangeNode, name string) *childtest.Child {
	t.Helper()
	c := childtest.Start(t, "producer", streamChildEnv+"="+exchangeNode+","+name)
	c.Expect(t, 20*time.Second, "READY")
	return c
}

// Across nodes a chunk must be a protobuf message within MaxPayload; send
// refuses others without using credit, and the stream goes on.
func TestStreamChunksThatCannotTravel(t *testing.T) {
	cl, ex, _, _, _, _ := streamThreeNodes(t, func(_ context.Context, _ *exchange.Request, send func(any) error) error {
		if err := send("not a protobuf message"); !errors.Is(err, actor.ErrNotSerializable) {
			return fmt.Errorf("plain string: %v", err)
		}
		if err := send(wrapperspb.Bytes(make([]byte, 2048))); !errors.Is(err, exchange.ErrTooLarge) {
			return fmt.Errorf("too large: %v", err)
		}
		return send(wrapperspb.UInt64(7))
	}, func(c *StreamController) { c.MaxPayload = 1024 })
	got := 0
	for v, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("go"), WithWindow(1)) {
		if err != nil {
			t.Fatal(err)
		}
		if got++; num(v) != 7 {
			t.Fatalf("got %v", v)
		}
	}
	if got != 1 {
		t.Fatalf("%d chunks", got)
	}
}

// Chunks of mixed sizes keep their own bytes across nodes (encoding
// buffers are recycled on both sides).
func TestStreamBytesAcrossNodes(t *testing.T) {
	sizes := []int{1, 200 << 10, 10, 64 << 10, 3000}
	cl, ex, _, _, _, _ := streamThreeNodes(t, func(_ context.Context, _ *exchange.Request, send func(any) error) error {
		for i := range 200 {
			if err := send(wrapperspb.Bytes(bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)]))); err != nil {
				return err
			}
		}
		return nil
	})
	i := 0
	for v, err := range StreamAs[*wrapperspb.BytesValue](ctxT(t), cl, ex, wrapperspb.String("go"), WithWindow(32)) {
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)]); !bytes.Equal(v.Value, want) {
			t.Fatalf("chunk %d: %d bytes; want %d of %d", i, len(v.Value), len(want), i)
		}
		i++
	}
	if i != 200 {
		t.Fatalf("%d chunks", i)
	}
}

// Chunks go straight from the producer to the client: the exchange's node
// stopping in the middle of a stream does not end it.
func TestStreamOutlivesExchangeNode(t *testing.T) {
	p := newCounting(200)
	cl, ex, _, _, b, _ := streamThreeNodes(t, p.handler)
	got := 0
	for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("go"), WithWindow(4)) {
		if err != nil {
			t.Fatalf("after %d chunks: %v", got, err)
		}
		if got++; got == 10 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := b.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			cancel()
		}
	}
	if got != 200 {
		t.Fatalf("%d chunks", got)
	}
}
