package patterns

import (
	"fmt"

	"github.com/switchboard-go/switchboard/exchange"
)

// RequestOption sets a field of one request.
type RequestOption func(*requestOptions)

type requestOptions struct {
	tag, service, key, idem string
	headers                 map[string]string
	retry                   *Retry
	safe                    bool
}

func parseOptions(opts []RequestOption) requestOptions {
	var o requestOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// single checks the options of a request whose answer is not one reply
// (what names it: CallAll, Stream, Interact): no idempotency key, nothing
// of retries. Request takes a key, not retries: repeat says so.
func (o *requestOptions) single(what string, key bool) error {
	if o.idem != "" && !key {
		return fmt.Errorf("%w: %s", exchange.ErrKeyUnsupported, what)
	}
	if o.retry != nil || o.safe {
		return fmt.Errorf("%w: %s does not repeat requests (WithRetry, SafeToRepeat are Call's)", ErrInvalidOption, what)
	}
	return nil
}

// WithTag labels the reply (the request tag); asynchronous replies carry it.
func WithTag(tag string) RequestOption { return func(o *requestOptions) { o.tag = tag } }

// WithServiceTag sends the request to the controllers of one service group.
func WithServiceTag(tag string) RequestOption { return func(o *requestOptions) { o.service = tag } }

// WithRoutingKey sets the request's routing key: its signature for sticky
// exchanges.
func WithRoutingKey(key string) RequestOption { return func(o *requestOptions) { o.key = key } }

// WithIdempotencyKey sets the request's idempotency key: within the
// exchange's window (exchange.Idempotency) the requests with one key run
// once, and every one of them gets that run's outcome. Call repeats a
// keyed request that got no answer (see Retry). Keys are the exchange's:
// make them unique to the operation (a UUID, an order number). CallAll,
// Stream and Interact refuse a key (exchange.ErrKeyUnsupported).
func WithIdempotencyKey(key string) RequestOption { return func(o *requestOptions) { o.idem = key } }

// WithRetry sets how Call repeats a request that got no answer: a request
// with an idempotency key (which Call repeats by default, as DefaultRetry
// says), or one marked SafeToRepeat. On any other request it is an
// ErrInvalidOption: Call never repeats a request that might run twice.
func WithRetry(r Retry) RequestOption { return func(o *requestOptions) { o.retry = &r } }

// SafeToRepeat marks a request without an idempotency key as harmless to
// run more than once (a read): Call repeats it as it repeats keyed
// requests. The exchange does not de-duplicate it.
func SafeToRepeat() RequestOption { return func(o *requestOptions) { o.safe = true } }
