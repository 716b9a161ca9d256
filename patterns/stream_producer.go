package patterns

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/patternspb"
)

// errHandlerReturned is the cause of a producer's context once its handler
// has returned: a send after that (from a goroutine the handler left
// behind) fails with it.
var errHandlerReturned = errors.New("patterns: send after the stream handler returned")

// producer is the controller's side of one stream. The handler runs on its
// own goroutine and sends chunks within the client's credit; a control
// goroutine takes the client's grants and cancellation from a pending
// request of the controller's node, whose peer is the client's node, so
// that the client's node going away ends the stream too.
type producer struct {
	n       *actor.Node
	ctl     actor.Pending // the client's StreamCredit and StreamCancel arrive here
	ctx     context.Context
	cancel  context.CancelCauseFunc
	max     int           // the largest chunk to another node, in bytes
	wake    chan struct{} // capacity 1: credit came, or the stream stopped
	onBlock func()        // test hook: send waits for credit

	mu       sync.Mutex
	credit   int
	to       actor.ReplyTo // where chunks go; zero until the first grant
	remote   bool          // to is on another node
	sent     uint64
	finished bool  // the handler returned ...
	final    error // ... with this
	stopped  bool  // the client cancelled or is gone: it wants nothing more
}

// open starts the producer of req under the controller's lifetime and
// returns the reply that tells the client where to send credit.
func (c *StreamController) open(p *actor.Process, req *exchange.Request) *patternspb.StreamOpen {
	n := p.Node()
	ctx, cancel := context.WithCancelCause(c.life.context())
	s := &producer{n: n, ctx: ctx, cancel: cancel, max: c.MaxPayload, wake: make(chan struct{}, 1), onBlock: c.onBlock}
	if s.max <= 0 {
		s.max = exchange.DefaultMaxPayload
	}
	s.ctl = n.NewPending(ctx, req.ReplyTo().Address(), true)
	open := &patternspb.StreamOpen{Address: n.Address(), Ref: s.ctl.ReplyTo().Ref()}
	// The client grants credit as soon as it has the StreamOpen; the wait
	// is bounded so that a client gone before granting (its node alive)
	// leaves nothing behind. At least CallTimeout: the deadline is another
	// node's clock, and a grant refused for a skewed clock would leave the
	// client waiting.
	grantBy := time.Now().Add(n.CallTimeout())
	if req.Deadline.After(grantBy) {
		grantBy = req.Deadline
	}
	go s.control(grantBy)
	go s.run(c.Handler, req)
	return open
}

// control takes the client's messages until the stream ends. The first
// grant is awaited until the request's deadline, whatever the handler
// does meanwhile: a handler that returned early still owes the client its
// final message, which can only go once the grant says where.
func (s *producer) control(grantBy time.Time) {
	defer s.ctl.Release()
	gctx, cancel := context.WithDeadline(context.Background(), grantBy)
	v, err := s.ctl.Wait(gctx)
	cancel()
	if err != nil {
		s.stop(fmt.Errorf("%w: no credit from the client: %w", ErrStreamCancelled, err))
		return
	}
	for s.take(v) {
		if v, err = s.ctl.Wait(s.ctx); err != nil {
			if s.ctx.Err() == nil { // not our own end: the client's node went away
				s.stop(err)
			}
			return
		}
	}
}

// take handles one message from the client; false ends the control loop.
func (s *producer) take(v any) bool {
	switch m := v.(type) {
	case *patternspb.StreamCredit:
		s.mu.Lock()
		first := s.to.IsZero()
		if first {
			s.to = actor.NewReplyTo(m.GetReplyAddress(), m.GetReplyRef())
			s.remote = m.GetReplyAddress() != s.n.Address()
		}
		s.credit += int(m.GetChunks())
		finished, final := s.finished, s.final
		s.mu.Unlock()
		s.signal()
		if first && finished {
			s.deliver(final)
			return false
		}
	case *patternspb.StreamCancel:
		s.stop(ErrStreamCancelled)
		return false
	}
	return true
}

// stop ends the stream from the client's side: nothing more is sent.
func (s *producer) stop(cause error) {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.cancel(cause)
	s.signal()
}

func (s *producer) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// send is the handler's send: it takes one unit of credit, waiting for it
// if there is none, and hands the chunk to the client's node.
func (s *producer) send(chunk any) error {
	for {
		if s.ctx.Err() != nil {
			return context.Cause(s.ctx)
		}
		s.mu.Lock()
		if s.credit > 0 {
			if s.remote {
				if err := s.check(chunk); err != nil {
					s.mu.Unlock()
					return err
				}
			}
			s.credit--
			s.sent++
			to := s.to
			s.mu.Unlock()
			return s.push(s.ctx, to, chunk, nil)
		}
		s.mu.Unlock()
		if s.onBlock != nil {
			s.onBlock()
		}
		select {
		case <-s.wake:
		case <-s.ctx.Done():
		}
	}
}

// check rejects a chunk that cannot travel to another node.
func (s *producer) check(chunk any) error {
	m, ok := chunk.(proto.Message)
	if !ok {
		return fmt.Errorf("%w: chunk %T", actor.ErrNotSerializable, chunk)
	}
	if size := proto.Size(m); size > s.max {
		return fmt.Errorf("%w: chunk of %d bytes, limit %d", exchange.ErrTooLarge, size, s.max)
	}
	return nil
}

// run runs the handler and ends the stream with its result. A panic is
// the stream's crash, not the controller's.
func (s *producer) run(h StreamHandler, req *exchange.Request) {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				pe := &actor.PanicError{Value: r, Stack: debug.Stack()}
				s.n.Logger().Error("stream handler crashed", "exchange", req.Exchange, "reason", pe, "stack", string(pe.Stack))
				err = fmt.Errorf("%w: %w", ErrStreamCrashed, pe)
			}
		}()
		err = h(s.ctx, req, s.send)
	}()
	s.finish(err)
}

// finish records the handler's result and sends it to the client, unless
// the client is gone or has not said yet where it goes (control sends it
// when the grant comes).
func (s *producer) finish(err error) {
	if err != nil && errors.Is(err, context.Canceled) && s.ctx.Err() != nil {
		err = context.Cause(s.ctx) // say why: the client, or the controller's exit
	}
	s.mu.Lock()
	s.finished, s.final = true, err
	known, stopped := !s.to.IsZero(), s.stopped
	s.mu.Unlock()
	if known && !stopped {
		s.deliver(err)
	}
	s.cancel(errHandlerReturned)
}

// deliver sends the stream's last message: its end or its error.
func (s *producer) deliver(err error) {
	s.mu.Lock()
	to, sent := s.to, s.sent
	s.mu.Unlock()
	// The last message waits for room as the chunks did, for at most the
	// node's CallTimeout: the stream's own context has ended.
	ctx, cancel := context.WithTimeout(context.Background(), s.n.CallTimeout())
	defer cancel()
	if err != nil {
		_ = s.push(ctx, to, nil, err)
		return
	}
	_ = s.push(ctx, to, &patternspb.StreamEnd{Chunks: sent}, nil)
}

// push hands a message of the stream to the client's node. While the
// queue for that node is full (it does not read: paused, slow, or flooded
// by other traffic; actor.Limits.MaxPeerQueueBytes) the message is kept
// and offered again, so the producer blocks as it does without credit,
// until there is room or ctx ends: nothing of the stream is dropped.
// Each refusal is counted in the node's Stats.Overloaded. The message is
// val, or the error e that ends the stream.
func (s *producer) push(ctx context.Context, to actor.ReplyTo, val any, e error) error {
	err := s.n.TryReply(to, val, e)
	for wait := pushFirstWait; errors.Is(err, actor.ErrOverloaded); wait = min(2*wait, pushMaxWait) {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		err = s.n.TryReply(to, val, e)
	}
	return nil // another error (the client's node is down) ends the stream through the control loop
}

// The waits of a producer for room in the queue for its client's node.
const (
	pushFirstWait = 100 * time.Microsecond
	pushMaxWait   = 10 * time.Millisecond
)
