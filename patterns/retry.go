package patterns

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// Retry says how Call repeats a request that got no answer: a try that
// timed out, or found no exchange, no controller, a node down or
// overloaded, is followed by another after a backoff, until Attempts tries
// or the caller's deadline (ctx's, or the node's CallTimeout), whichever
// comes first; the last try's error is returned. An answer — a reply, or
// an error from the handler, or a refusal of the exchange — ends the
// tries. Zero fields take the defaults of DefaultRetry.
//
// Call repeats only what may be repeated: a request with an idempotency
// key (the exchange runs it once and answers every try with its outcome),
// or one marked SafeToRepeat.
type Retry struct {
	// Attempts is the number of tries, the first included; 1 never repeats.
	Attempts int
	// PerTry bounds one try. Zero shares the time left among the tries
	// left: with a deadline 4 s away and 4 attempts, the first try has 1 s.
	// A keyed request loses nothing to a short try (its retry waits for
	// the same run), but one marked SafeToRepeat runs anew on each try: if
	// its handler takes longer than a try, set PerTry above that time.
	PerTry time.Duration
	// Backoff is the wait before the second try; each wait doubles the one
	// before, up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Jitter, from 0 to 1, is the part of each wait drawn at random: a
	// wait is between (1-Jitter) and 1 times its backoff, so that clients
	// that failed together do not repeat together.
	Jitter float64
}

// DefaultRetry is what Call does with a keyed request without WithRetry.
func DefaultRetry() Retry {
	return Retry{Attempts: 4, Backoff: 25 * time.Millisecond, MaxBackoff: time.Second, Jitter: 0.2}
}

func (r Retry) validate() error {
	if r.Attempts < 0 || r.PerTry < 0 || r.Backoff < 0 || r.MaxBackoff < 0 || !(r.Jitter >= 0 && r.Jitter <= 1) {
		return fmt.Errorf("%w: retry %+v: negative bound, or jitter outside [0, 1]", ErrInvalidOption, r)
	}
	return nil
}

func (r Retry) withDefaults() Retry {
	d := DefaultRetry()
	if r.Attempts == 0 {
		r.Attempts = d.Attempts
	}
	if r.Backoff == 0 {
		r.Backoff = d.Backoff
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = max(d.MaxBackoff, r.Backoff)
	}
	if r.Jitter == 0 {
		r.Jitter = d.Jitter
	}
	return r
}

// callRetrying is Call for a request that may be repeated.
func (c *Client) callRetrying(ctx context.Context, ex exchange.Address, msg any, o requestOptions) (any, error) {
	if o.idem == "" && !o.safe {
		return nil, fmt.Errorf("%w: WithRetry on a request with neither an idempotency key nor SafeToRepeat", ErrInvalidOption)
	}
	r := DefaultRetry()
	if o.retry != nil {
		if err := o.retry.validate(); err != nil {
			return nil, err
		}
		r = o.retry.withDefaults()
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.n.CallTimeout())
		defer cancel()
		deadline, _ = ctx.Deadline()
	}
	wait := r.Backoff
	for try := range r.Attempts {
		per := r.PerTry
		if per == 0 {
			per = time.Until(deadline) / time.Duration(r.Attempts-try)
		}
		tctx, cancel := context.WithTimeout(ctx, per)
		v, err := c.callOnce(tctx, ex, msg, o)
		cancel()
		if err == nil || !repeatable(err) || ctx.Err() != nil || try == r.Attempts-1 {
			return v, err
		}
		d := time.Duration(float64(wait) * (1 - r.Jitter*rand.Float64()))
		if time.Until(deadline) <= d {
			return nil, err // no time for another try
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
		wait = min(2*wait, r.MaxBackoff)
	}
	panic("unreachable: the last try returns")
}

// repeatable reports whether a try's error says nothing of the request's
// outcome: no answer came, or the request found nobody to run it.
func repeatable(err error) bool {
	for _, e := range []error{actor.ErrTimeout, actor.ErrNodeDown, actor.ErrNoProcess, actor.ErrOverloaded,
		exchange.ErrNoController, exchange.ErrExchangeNotFound, exchange.ErrKeysFull, exchange.ErrStale} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
