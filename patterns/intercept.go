package patterns

import (
	"context"

	"github.com/switchboard-go/switchboard/exchange"
)

// Interceptor sees every request a Client's Call and CallAll send, on the
// caller's goroutine, once it is built and before it goes: it may read the
// request and set its headers (req.SetHeader), to carry a trace context,
// say. The function it returns, if not nil, is called once with the
// outcome: the error Call or CallAll returns (nil for a reply). A request
// that fails before it is built (an unknown exchange, a payload too large)
// is not seen. Metrics and tracing use it (packages ops and tracing);
// ChainInterceptors runs several.
type Interceptor func(ctx context.Context, req *exchange.Request) (done func(err error))

// ChainInterceptors is an Interceptor that runs each of its in order, and
// their done functions in reverse order.
func ChainInterceptors(in ...Interceptor) Interceptor {
	return func(ctx context.Context, req *exchange.Request) func(error) {
		var dones []func(error)
		for _, i := range in {
			if i == nil {
				continue
			}
			if d := i(ctx, req); d != nil {
				dones = append(dones, d)
			}
		}
		if len(dones) == 0 {
			return nil
		}
		return func(err error) {
			for i := len(dones) - 1; i >= 0; i-- {
				dones[i](err)
			}
		}
	}
}

func finish(done func(error), err error) {
	if done != nil {
		done(err)
	}
}
