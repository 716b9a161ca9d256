package patterns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

func TestStreamDeliversInOrderAndEnds(t *testing.T) {
	topology(t, func(t *testing.T, setup func(StreamHandler, ...func(*StreamController)) (*Client, exchange.Address)) {
		p := newCounting(1000)
		cl, ex := setup(p.handler)
		var got uint64
		for v, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("go"), WithWindow(8)) {
			if err != nil {
				t.Fatal(err)
			}
			if num(v) != got {
				t.Fatalf("chunk %d is %v", got, v)
			}
			got++
		}
		if got != 1000 || p.wait(t).sent != 1000 {
			t.Fatalf("got %d chunks", got)
		}
	})
}

// The producer never has more chunks on their way than the window: a
// probe on the producer's side counts what it sent against what the loop
// has finished with, and a consumer that pauses leaves the producer
// blocked after exactly a window more.
func TestStreamCreditNeverExceeded(t *testing.T) {
	topology(t, func(t *testing.T, setup func(StreamHandler, ...func(*StreamController)) (*Client, exchange.Address)) {
		const window, total, pauseAt = 6, 300, 120 // pauseAt is a multiple of the refill, window/2
		var sent, taken, maxInFlight atomic.Int64
		blocked := make(chan int64, 10000)
		h := func(ctx context.Context, _ *exchange.Request, send func(any) error) error {
			for i := 0; i < total; i++ {
				if err := send(wrapperspb.UInt64(uint64(i))); err != nil {
					return err
				}
				inFlight := sent.Add(1) - taken.Load()
				for m := maxInFlight.Load(); inFlight > m && !maxInFlight.CompareAndSwap(m, inFlight); m = maxInFlight.Load() {
				}
			}
			return nil
		}
		cl, ex := setup(h, func(c *StreamController) {
			c.onBlock = func() {
				select {
				case blocked <- sent.Load():
				default:
				}
			}
		})
		resume := make(chan struct{})
		go func() {
			// Wait for the producer to block with the consumer paused: it
			// must have sent exactly pauseAt + window.
			for {
				select {
				case s := <-blocked:
					if taken.Load() == pauseAt && s == pauseAt+window {
						close(resume)
						return
					}
					if s > taken.Load()+window {
						t.Errorf("producer blocked after %d sent, %d taken", s, taken.Load())
					}
				case <-time.After(10 * time.Second):
					t.Error("the producer never blocked at the window")
					close(resume)
					return
				}
			}
		}()
		for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("go"), WithWindow(window)) {
			if err != nil {
				t.Fatal(err)
			}
			if taken.Load() == pauseAt {
				<-resume
			}
			taken.Add(1) // done with the chunk
		}
		if taken.Load() != total {
			t.Fatalf("took %d", taken.Load())
		}
		if m := maxInFlight.Load(); m > window || m < window/2 {
			t.Fatalf("at most %d chunks in flight; window %d", m, window)
		}
	})
}

func TestStreamCancelStopsProducer(t *testing.T) {
	topology(t, func(t *testing.T, setup func(StreamHandler, ...func(*StreamController)) (*Client, exchange.Address)) {
		p := newCounting(-1)
		cl, ex := setup(p.handler)
		ctx, cancel := context.WithCancel(ctxT(t))
		defer cancel()
		var got int
		var last error
		for _, err := range cl.Stream(ctx, ex, wrapperspb.String("go"), WithWindow(4)) {
			if err != nil {
				last = err
				break
			}
			if got++; got == 10 {
				cancel()
			}
		}
		if !errors.Is(last, context.Canceled) || got != 10 {
			t.Fatalf("after %d chunks the loop ended with %v", got, last)
		}
		e := p.wait(t)
		checkStopped(t, e, ErrStreamCancelled)
		if e.sent > 10+4 {
			t.Fatalf("producer sent %d chunks; the client took 10 with a window of 4", e.sent)
		}
	})
}

func TestStreamBreakStopsProducer(t *testing.T) {
	topology(t, func(t *testing.T, setup func(StreamHandler, ...func(*StreamController)) (*Client, exchange.Address)) {
		p := newCounting(-1)
		cl, ex := setup(p.handler)
		got := 0
		for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("go")) {
			if err != nil {
				t.Fatal(err)
			}
			if got++; got == 3 {
				break
			}
		}
		checkStopped(t, p.wait(t), ErrStreamCancelled)
	})
}

var errDisk = errors.New("patterns-test: disk on fire")

func TestStreamProducerErrorAndCrash(t *testing.T) {
	topology(t, func(t *testing.T, setup func(StreamHandler, ...func(*StreamController)) (*Client, exchange.Address)) {
		h := func(ctx context.Context, req *exchange.Request, send func(any) error) error {
			for i := 0; i < 5; i++ {
				if err := send(wrapperspb.UInt64(uint64(i))); err != nil {
					return err
				}
			}
			switch str(req.Msg) {
			case "fail":
				return fmt.Errorf("%w: sector 7", errDisk)
			case "panic":
				panic("producer exploded")
			case "early":
				return nil
			}
			return nil
		}
		cl, ex := setup(h)
		for _, tc := range []struct {
			msg  string
			want error
			text string
		}{
			{"fail", errDisk, "sector 7"},
			{"panic", ErrStreamCrashed, "producer exploded"},
			{"ok", nil, ""},
		} {
			var got int
			var last error
			for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String(tc.msg)) {
				if err != nil {
					last = err
					continue
				}
				got++
			}
			if got != 5 || !errors.Is(last, tc.want) || (tc.want != nil && !strings.Contains(last.Error(), tc.text)) {
				t.Fatalf("%s: %d chunks, then %v; want 5 and %v", tc.msg, got, last, tc.want)
			}
		}
	})
}

// A handler that returns before the client's first grant still ends its
// stream: with nothing, or with its error.
func TestStreamEndsBeforeCredit(t *testing.T) {
	topology(t, func(t *testing.T, setup func(StreamHandler, ...func(*StreamController)) (*Client, exchange.Address)) {
		cl, ex := setup(func(_ context.Context, req *exchange.Request, _ func(any) error) error {
			if str(req.Msg) == "fail" {
				return errDisk
			}
			return nil
		})
		for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("empty")) {
			t.Fatalf("empty stream yielded (%v)", err)
		}
		n := 0
		for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("fail")) {
			if n++; !errors.Is(err, errDisk) {
				t.Fatalf("got %v", err)
			}
		}
		if n != 1 {
			t.Fatalf("%d yields", n)
		}
	})
}

// A controller killed while it streams: the stream's client hears of it
// at once, and the producer's context ends.
func TestStreamControllerKilled(t *testing.T) {
	for _, remote := range []bool{false, true} {
		t.Run(fmt.Sprint("remote=", remote), func(t *testing.T) {
			p := newCounting(-1)
			var cl *Client
			var ex exchange.Address
			var pid *actor.PID
			var owner *actor.Node
			if remote {
				cl, ex, pid, _, _, owner = streamThreeNodes(t, p.handler)
			} else {
				cl, ex, pid = streamOneNode(t, p.handler)
				owner = cl.n
			}
			got := 0
			var last error
			start := time.Now()
			for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("go")) {
				if err != nil {
					last = err
					break
				}
				if got++; got == 5 {
					start = time.Now()
					owner.Exit(pid, actor.ErrKill)
				}
			}
			if !errors.Is(last, actor.ErrKilled) || time.Since(start) > 2*time.Second {
				t.Fatalf("after the kill: %v, %v later", last, time.Since(start))
			}
			e := p.wait(t)
			var exit *actor.ExitError
			if !e.ctxDone || (!remote && !errors.As(e.cause, &exit)) || !errors.Is(e.cause, actor.ErrKilled) {
				t.Fatalf("producer ended with %+v", e)
			}
		})
	}
}

func TestStreamRequestErrors(t *testing.T) {
	n := node(t, "a@localhost", false)
	cl := NewClient(n)
	first := func(seq func(func(any, error) bool)) error {
		for _, err := range seq {
			return err
		}
		return nil
	}
	if err := first(cl.Stream(ctxT(t), exchange.Named("nope"), wrapperspb.String("x"))); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("no exchange: %v", err)
	}
	startExchange(t, n, exchange.Spec{Name: "s", Strategy: exchange.RoundRobin})
	if err := first(cl.Stream(ctxT(t), exchange.Named("s"), wrapperspb.String("x"))); !errors.Is(err, exchange.ErrNoController) {
		t.Fatalf("no controller: %v", err)
	}
	ctrl(t, n, exchange.Named("s"), "plain", "", "")
	if err := first(cl.Stream(ctxT(t), exchange.Named("s"), wrapperspb.String("x"))); !errors.Is(err, ErrUnexpectedReply) {
		t.Fatalf("a plain controller: %v", err)
	}
}

// Several streams from one client at once, consumed in turn, each with its
// own chunks; typed with StreamAs.
func TestStreamsConcurrent(t *testing.T) {
	topology(t, func(t *testing.T, setup func(StreamHandler, ...func(*StreamController)) (*Client, exchange.Address)) {
		cl, ex := setup(func(ctx context.Context, req *exchange.Request, send func(any) error) error {
			for i := 0; i < 50; i++ {
				if err := send(wrapperspb.String(fmt.Sprintf("%s/%d", str(req.Msg), i))); err != nil {
					return err
				}
			}
			return nil
		})
		var wg sync.WaitGroup
		for s := 0; s < 8; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				i := 0
				for v, err := range StreamAs[*wrapperspb.StringValue](ctxT(t), cl, ex, wrapperspb.String(fmt.Sprint("s", s)), WithWindow(2)) {
					if err != nil {
						t.Error(err)
						return
					}
					if want := fmt.Sprintf("s%d/%d", s, i); v.Value != want {
						t.Errorf("got %s; want %s", v.Value, want)
					}
					i++
				}
				if i != 50 {
					t.Errorf("stream %d: %d chunks", s, i)
				}
			}()
		}
		wg.Wait()
	})
}
