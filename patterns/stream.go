package patterns

import (
	"context"
	"errors"

	"github.com/switchboard-go/switchboard/exchange"
)

// Errors of chunked responses. Test them with errors.Is; they keep their
// identity across nodes.
var (
	// ErrStreamCancelled: the client stopped the stream (its context ended,
	// it broke out of its loop) or went away. A producer's send returns it
	// (or actor.ErrNodeDown when the client's node went away), and it is
	// the cause of the producer's context.
	ErrStreamCancelled = errors.New("patterns: stream cancelled by its client")
	// ErrStreamCrashed: the stream handler panicked; the error wraps the
	// *actor.PanicError in the controller's node (its text elsewhere).
	ErrStreamCrashed = errors.New("patterns: stream handler panicked")
	// ErrCreditExceeded: a producer sent more chunks than the client
	// granted; the client ends the stream with it.
	ErrCreditExceeded = errors.New("patterns: stream producer exceeded its credit")
	// ErrStreamTruncated: the stream ended with fewer chunks than its
	// producer says it sent.
	ErrStreamTruncated = errors.New("patterns: stream truncated")
)

// DefaultWindow is the credit a client grants a producer unless
// WithWindow says otherwise: how many chunks may be on their way, sent
// but not yet taken by the consumer.
const DefaultWindow = 16

// StreamHandler answers one request with a stream of chunks: it calls send
// for each chunk, in order, and returns nil at the end of the stream or the
// error that ends it. send blocks while the client has granted no credit,
// and fails once the client has cancelled or gone away (ErrStreamCancelled,
// actor.ErrNodeDown), or the controller has exited; ctx ends in the same
// cases, with the reason as its cause (context.Cause). Across nodes a chunk
// must be a protobuf message no larger than the controller's MaxPayload
// (exchange.ErrTooLarge, actor.ErrNotSerializable otherwise); in one node
// it is handed over as it is, so do not modify it after sending. A panic
// ends the stream with ErrStreamCrashed; the controller goes on.
//
// ctx carries no deadline: a stream lasts until it ends or its client
// stops it. req.Deadline only bounded the opening.
type StreamHandler func(ctx context.Context, req *exchange.Request, send func(chunk any) error) error

// StreamOption configures one Stream: any RequestOption, or WithWindow.
type StreamOption interface{ applyStream(*streamOptions) }

type streamOptions struct {
	req    []RequestOption
	window int
}

func (o RequestOption) applyStream(s *streamOptions) { s.req = append(s.req, o) }

type windowOption int

func (w windowOption) applyStream(s *streamOptions) { s.window = int(w) }

// WithWindow sets a stream's credit: at most chunks chunks are on their way
// from the producer, sent but not yet taken by the consumer (default
// DefaultWindow; values below 1 mean 1). Memory on each side is bounded by
// the window times the chunk size.
func WithWindow(chunks int) StreamOption { return windowOption(chunks) }
