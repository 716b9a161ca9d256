package patterns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// Client sends requests to exchanges from plain goroutines. It holds no
// goroutine or process of its own: replies land in the node's table of
// pending requests. A Client is safe for concurrent use.
type Client struct {
	n *actor.Node
	// MaxPayload bounds the payload of a request to another node (checked
	// before sending); default exchange.DefaultMaxPayload. Requests within
	// a node are not encoded and have no such bound.
	MaxPayload int
	// Intercept, if set, sees every request of Call (each try) and CallAll
	// before it goes, and its outcome; see Interceptor. Nil costs nothing.
	Intercept Interceptor

	pids pidCache // of exchange.At addresses, and exchange.Named ones of this node
}

// NewClient returns a client that sends from node n.
func NewClient(n *actor.Node) *Client { return &Client{n: n} }

// Reply is one controller's answer to a request that wanted all of them.
type Reply struct {
	Value any
	Err   error
}

// Call sends msg to the exchange and returns the reply: the first one for a
// Broadcast exchange (CallAll returns them all). The deadline is ctx's, or
// the node's CallTimeout. Errors: exchange.ErrExchangeNotFound,
// ErrNoController, ErrRejected, ErrTooLarge, actor.ErrTimeout,
// actor.ErrNodeDown (the exchange's or the controller's node went away;
// it comes as soon as the node before it learns of it), or the
// controller's own error.
//
// A request with an idempotency key (WithIdempotencyKey), or marked
// SafeToRepeat, is repeated after a try that got no answer, as Retry
// says (DefaultRetry unless WithRetry); any other is sent once.
func (c *Client) Call(ctx context.Context, ex exchange.Address, msg any, opts ...RequestOption) (any, error) {
	o := parseOptions(opts)
	if o.idem != "" || o.safe || o.retry != nil {
		return c.callRetrying(ctx, ex, msg, o)
	}
	return c.callOnce(ctx, ex, msg, o)
}

// callOnce is one try of Call.
func (c *Client) callOnce(ctx context.Context, ex exchange.Address, msg any, o requestOptions) (v any, err error) {
	var done func(error)
	if c.Intercept != nil {
		defer func() { finish(done, err) }()
	}
	pend, _, err := c.sendWith(ctx, ex, msg, false, o, &done)
	if err != nil {
		return nil, err
	}
	defer pend.Release()
	v, err = pend.Wait(ctx)
	if err == nil {
		if err := c.notAReply(ex, v); err != nil {
			return nil, err
		}
	}
	return v, c.clarify(ex, err)
}

// CallAll sends msg to the exchange and returns every controller's reply:
// for a Broadcast exchange one per controller (of the service group), for
// the others the one reply. It returns when all have answered or the
// deadline has passed; the replies that came are returned with the error.
// If a controller's node goes down before the controller answers, its
// Reply carries actor.ErrNodeDown, as soon as the exchange's node learns
// of it; the exchange's own node going down ends CallAll with
// actor.ErrNodeDown. The exchange's node cannot tell which controllers
// have answered: a node that goes down after its controller answered,
// while CallAll still waits for others, is counted a second time (its
// Reply.Err), and CallAll may return before a slower controller answers.
//
// CallAll takes no idempotency key (exchange.ErrKeyUnsupported): the
// replies of many controllers are no one outcome to remember.
func (c *Client) CallAll(ctx context.Context, ex exchange.Address, msg any, opts ...RequestOption) (out []Reply, err error) {
	o := parseOptions(opts)
	if err := o.single("CallAll", false); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.n.CallTimeout())
		defer cancel()
	}
	var done func(error)
	if c.Intercept != nil {
		defer func() { finish(done, err) }()
	}
	pend, hop, err := c.sendWith(ctx, ex, msg, true, o, &done)
	if err != nil {
		return nil, err
	}
	defer pend.Release()
	want := -1 // the count comes from the exchange; replies may overtake it
	for want < 0 || len(out) < want {
		v, err := pend.Wait(ctx)
		if n, refusal, ok := exchange.RoutedCount(v); ok && err == nil {
			if refusal != nil {
				return out, refusal
			}
			want = n
			continue
		}
		if errors.Is(err, actor.ErrTimeout) || errors.Is(err, context.Canceled) || errors.Is(err, actor.ErrNodeStopped) || hopDown(err, hop) {
			return out, err
		}
		if want < 0 && c.clarify(ex, err) != err { // the exchange itself is missing
			return out, c.clarify(ex, err)
		}
		if err == nil {
			if e := c.notAReply(ex, v); e != nil {
				v, err = nil, e
			}
		}
		out = append(out, Reply{Value: v, Err: err}) // a controller's node going down is that controller's answer
	}
	return out, nil
}

// hopDown reports whether err says that the node at hop (the exchange's),
// to which this node sent a request, went down: the request is lost. A
// controller's node going down arrives as that controller's answer, from
// the exchange's node.
func hopDown(err error, hop string) bool {
	var down *actor.NodeDownError
	return errors.As(err, &down) && down.Address == hop
}

// CallAs is Call with the reply's type checked: ErrUnexpectedReply if the
// reply is not a T.
func CallAs[T any](ctx context.Context, c *Client, ex exchange.Address, msg any, opts ...RequestOption) (T, error) {
	var zero T
	v, err := c.Call(ctx, ex, msg, opts...)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("%w: got %T, want %T", ErrUnexpectedReply, v, zero)
	}
	return t, nil
}

// send sends a request to ex and returns its Pending, and the address of
// the node it went to (the exchange's). A request waits on that node; the
// nodes after it (controllers') answer it themselves, or, if they go down
// first, the node that forwarded it to them does (see actor.Node.Forward).
func (c *Client) send(ctx context.Context, ex exchange.Address, msg any, all bool, o requestOptions) (actor.Pending, string, error) {
	return c.sendWith(ctx, ex, msg, all, o, nil)
}

// sendWith is send, with c.Intercept (if done is not nil) seeing the
// request before it goes and its outcome in *done.
func (c *Client) sendWith(ctx context.Context, ex exchange.Address, msg any, all bool, o requestOptions, done *func(error)) (actor.Pending, string, error) {
	target, err := check(ctx, c.n, ex, msg, c.MaxPayload, &c.pids)
	if err != nil {
		return actor.Pending{}, "", err
	}
	pend := c.n.NewPending(ctx, target.Address, all)
	// A request to another node that no interceptor sees is done with once
	// ForwardTo has encoded it: it comes from a pool (one allocation less
	// per request). Anyone else may keep it.
	pooled := c.Intercept == nil && target.Address != c.n.Address()
	var req *exchange.Request
	if pooled {
		req = requests.Get().(*exchange.Request)
	} else {
		req = new(exchange.Request)
	}
	build(req, ctx, c.n, ex, msg, pend.ReplyTo(), all, o)
	if done != nil && c.Intercept != nil {
		*done = c.Intercept(ctx, req)
	}
	err = req.ForwardTo(c.n, target)
	if pooled {
		*req = exchange.Request{}
		requests.Put(req)
	}
	if err != nil {
		pend.Release()
		return actor.Pending{}, "", c.clarify(ex, err)
	}
	return pend, target.Address, nil
}

// requests holds the requests of sendWith that are not kept.
var requests = sync.Pool{New: func() any { return new(exchange.Request) }}

// check returns the PID of ex, after checking what can be checked before
// sending: a name, and the payload's size when it will cross nodes. A
// missing local exchange shows up as the Forward's ErrNoProcess. pids, if
// not nil, caches the PIDs of addresses that name their node.
func check(ctx context.Context, n *actor.Node, ex exchange.Address, msg any, max int, pids *pidCache) (*actor.PID, error) {
	if ex.Name == "" {
		return nil, fmt.Errorf("%w: no exchange name", exchange.ErrExchangeNotFound)
	}
	target := pids.get(n, ex)
	if target == nil {
		var err error
		if target, err = ex.Resolve(ctx, n); err != nil {
			return nil, err
		}
		pids.put(n, ex, target)
	}
	if target.Address == n.Address() {
		return target, nil
	}
	if max <= 0 {
		max = exchange.DefaultMaxPayload
	}
	if m, ok := msg.(proto.Message); ok {
		if size := proto.Size(m); size > max {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", exchange.ErrTooLarge, size, max)
		}
	}
	return target, nil
}

// build assembles in req a request for ex, answered to rt.
func build(req *exchange.Request, ctx context.Context, n *actor.Node, ex exchange.Address, msg any, rt actor.ReplyTo, all bool, o requestOptions) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(n.CallTimeout())
	}
	*req = *exchange.NewRequest(ex.Name, msg, rt, all)
	req.Tag, req.ServiceTag, req.RoutingKey, req.IdempotencyKey, req.Deadline = o.tag, o.service, o.key, o.idem, deadline
	req.Headers = o.headers // the request's own: WithHeader and WithHeaders made it
}

// clarify turns "no process" for the exchange's registered name into
// ErrExchangeNotFound.
func (c *Client) clarify(ex exchange.Address, err error) error { return clarify(ex, err) }

func clarify(ex exchange.Address, err error) error {
	if err != nil && errors.Is(err, actor.ErrNoProcess) && strings.Contains(err.Error(), exchange.RegisteredName(ex.Name)) {
		return fmt.Errorf("%w: %q", exchange.ErrExchangeNotFound, ex.Name)
	}
	return err
}
