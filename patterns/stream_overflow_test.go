package patterns

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// stallable is a process whose direct call "stall" holds the reader of the
// connection it came on until release: the caller's node then has a peer
// that does not read, and its queue for it fills.
type stallable struct {
	actor.BaseServer
	stalled chan struct{}
	gate    chan struct{}
}

func (s *stallable) Init(p *actor.Process) error {
	p.HandleDirect(func(msg any, rt actor.ReplyTo) bool {
		if v, ok := msg.(*wrapperspb.StringValue); !ok || v.Value != "stall" {
			return false
		}
		s.stalled <- struct{}{}
		<-s.gate
		p.Node().Reply(rt, msg, nil)
		return true
	})
	return nil
}

// A stream's producer whose client's node stops reading (its queue for
// that node full, actor.Limits.MaxPeerQueueBytes) keeps its chunks and
// waits, as without credit, instead of losing them: once the node reads
// again the stream ends whole, and the refusals were counted.
func TestStreamProducerWaitsForRoomInsteadOfDropping(t *testing.T) {
	const queue, chunks, size = 256 << 10, 256, 64 << 10 // 16 MiB: more than the sockets' buffers hold
	// Long ticks: the client's node is held on purpose, and a tick is not
	// a frame it reads.
	start := func(name string, limits actor.Limits) *actor.Node {
		return nodeWith(t, actor.Config{Name: name, Listen: "127.0.0.1:0", Logger: quiet(), TickTime: time.Minute, Limits: limits})
	}
	a := start("a@localhost", actor.Limits{})                         // the client
	c := start("c@localhost", actor.Limits{MaxPeerQueueBytes: queue}) // the exchange and the producer
	startExchange(t, c, exchange.Spec{Name: "s", Strategy: exchange.RoundRobin})
	ex := exchange.At(c.Address(), "s")
	rest := make(chan struct{}) // the chunks after the first wait for the stall
	streamCtrl(t, c, ex, func(ctx context.Context, _ *exchange.Request, send func(any) error) error {
		for i := range chunks {
			if i == 1 {
				select {
				case <-rest:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if err := send(wrapperspb.Bytes(make([]byte, size))); err != nil {
				return err
			}
		}
		return nil
	})
	st := &stallable{stalled: make(chan struct{}, 1), gate: make(chan struct{})}
	stall, err := a.Spawn(ctxT(t), st)
	if err != nil {
		t.Fatal(err)
	}
	release := sync.OnceFunc(func() { close(st.gate) })
	t.Cleanup(release)
	cl := NewClient(a)
	got, done := 0, make(chan error, 1)
	opened := make(chan struct{})
	go func() {
		for _, err := range cl.Stream(ctxT(t), ex, wrapperspb.String("go"), WithWindow(chunks)) {
			if err != nil {
				done <- err
				return
			}
			if got++; got == 1 {
				close(opened)
			}
		}
		done <- nil
	}()
	recv(t, opened)
	// c calls the stalling process on a: a's reader of c's connection is
	// held, and c's queue for a fills with chunks.
	go func() { _, _ = c.Call(ctxT(t), stall, wrapperspb.String("stall")) }()
	recv(t, st.stalled)
	close(rest)
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Overloaded == 0 { // the producer met the full queue
		if time.Now().After(deadline) {
			t.Fatalf("c's queue for a never filled: %+v", c.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	release()
	if err := recv(t, done); err != nil || got != chunks {
		t.Fatalf("stream ended with %v after %d of %d chunks", err, got, chunks)
	}
	t.Logf("%d chunks of %d KiB through a %d KiB queue; c: %+v", chunks, size>>10, queue>>10, c.Stats())
}
