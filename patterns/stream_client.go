package patterns

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/patternspb"
)

// Stream sends msg to the exchange and returns the chunks of the stream
// its StreamController answers with, in order, as they come. The
// iteration ends after the last chunk, or yields one error and ends:
// the request's errors (as Call's), the producer's own error, actor.ErrNodeDown
// when the producer's node goes away, ErrStreamCrashed, or ctx's error.
// Breaking out of the loop, or ctx ending, cancels the stream: the
// producer's context ends and it sends nothing more.
//
// The client grants the producer a window of credit (WithWindow, default
// DefaultWindow chunks) and replenishes it as the loop takes chunks, so
// that at most that many are on their way at any time. ctx's deadline (or
// the node's CallTimeout) bounds the opening; after it, only ctx ends the
// stream. Each range over the sequence sends the request anew. Use an
// exchange that sends a request to one controller (not Broadcast). A
// stream takes no idempotency key (exchange.ErrKeyUnsupported): its chunks
// are no one outcome to remember.
//
//	for chunk, err := range client.Stream(ctx, exchange.Named("files"), wrapperspb.String(path)) {
//		if err != nil {
//			return err
//		}
//		w.Write(chunk.(*wrapperspb.BytesValue).GetValue())
//	}
func (c *Client) Stream(ctx context.Context, ex exchange.Address, msg any, opts ...StreamOption) iter.Seq2[any, error] {
	o := streamOptions{window: DefaultWindow}
	for _, opt := range opts {
		opt.applyStream(&o)
	}
	o.window = min(max(o.window, 1), math.MaxInt32)
	return func(yield func(any, error) bool) {
		s, err := c.openStream(ctx, ex, msg, o)
		if err != nil {
			yield(nil, err)
			return
		}
		defer s.close()
		for {
			v, err := s.next(ctx)
			if errors.Is(err, errEndOfStream) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(v, nil) {
				return
			}
			s.took()
		}
	}
}

// StreamAs is Stream with each chunk's type checked: a chunk that is not a
// T ends the stream with ErrUnexpectedReply.
func StreamAs[T any](ctx context.Context, c *Client, ex exchange.Address, msg any, opts ...StreamOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for v, err := range c.Stream(ctx, ex, msg, opts...) {
			if err != nil {
				yield(zero, err)
				return
			}
			t, ok := v.(T)
			if !ok {
				yield(zero, fmt.Errorf("%w: chunk %T, want %T", ErrUnexpectedReply, v, zero))
				return
			}
			if !yield(t, nil) {
				return
			}
		}
	}
}

var errEndOfStream = errors.New("patterns: end of stream")

// consumer is the client's side of one stream. It is used by the one
// goroutine that iterates.
type consumer struct {
	n           *actor.Node
	chunks      actor.Pending // chunks, then the end or an error; ErrNodeDown if the producer's node goes
	prod        actor.ReplyTo // the producer's control request
	outstanding int           // credit granted and not yet used by a chunk
	owed        int           // chunks taken since the last grant
	refill      int           // grant again once this many are owed
	got         uint64
	ended       bool // the producer is done: nothing to cancel
}

// openStream sends the request, waits for the producer's StreamOpen and
// grants it the first window.
func (c *Client) openStream(ctx context.Context, ex exchange.Address, msg any, so streamOptions) (*consumer, error) {
	o := parseOptions(so.req)
	if err := o.single("Stream", false); err != nil {
		return nil, err
	}
	pend, _, err := c.send(ctx, ex, msg, false, o)
	if err != nil {
		return nil, err
	}
	v, err := pend.Wait(ctx)
	pend.Release()
	if err != nil {
		return nil, c.clarify(ex, err)
	}
	open, ok := v.(*patternspb.StreamOpen)
	if !ok {
		return nil, fmt.Errorf("%w: %T is no stream (does a StreamController serve %q?)", ErrUnexpectedReply, v, ex.Name)
	}
	s := &consumer{
		n:           c.n,
		prod:        actor.NewReplyTo(open.GetAddress(), open.GetRef()),
		outstanding: so.window,
		refill:      max(1, so.window/2),
	}
	s.chunks = c.n.NewPending(ctx, open.GetAddress(), true)
	c.n.Reply(s.prod, &patternspb.StreamCredit{Chunks: uint32(so.window), ReplyAddress: c.n.Address(), ReplyRef: s.chunks.ReplyTo().Ref()}, nil)
	return s, nil
}

// next returns the next chunk, errEndOfStream after the last, or the
// error that ends the stream.
func (s *consumer) next(ctx context.Context) (any, error) {
	if err := ctx.Err(); err != nil { // chunks may be queued: ctx ending stops the loop all the same
		if err == context.DeadlineExceeded {
			err = fmt.Errorf("%w: %w", actor.ErrTimeout, err) // as Wait says it
		}
		return nil, err
	}
	v, err := s.chunks.Wait(ctx)
	if err != nil {
		s.ended = ctx.Err() == nil // the producer's error, or its node is gone
		return nil, err
	}
	if end, ok := v.(*patternspb.StreamEnd); ok {
		s.ended = true
		if end.GetChunks() != s.got {
			return nil, fmt.Errorf("%w: %d chunks of %d", ErrStreamTruncated, s.got, end.GetChunks())
		}
		return nil, errEndOfStream
	}
	if s.outstanding == 0 {
		return nil, fmt.Errorf("%w: chunk %d", ErrCreditExceeded, s.got+1)
	}
	s.outstanding--
	s.got++
	return v, nil
}

// took replenishes the credit for a chunk the loop has finished with.
func (s *consumer) took() {
	s.owed++
	if s.owed < s.refill {
		return
	}
	s.n.Reply(s.prod, &patternspb.StreamCredit{Chunks: uint32(s.owed)}, nil)
	s.outstanding += s.owed
	s.owed = 0
}

// close cancels the stream unless it has ended, and forgets it: chunks
// still on their way are dropped.
func (s *consumer) close() {
	if !s.ended {
		s.n.Reply(s.prod, &patternspb.StreamCancel{}, nil)
	}
	s.chunks.Release()
}
