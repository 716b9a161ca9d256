package patterns

import "context"

type attemptKey struct{}

// attemptCtx carries the attempt of a keyed request without a deadline.
type attemptCtx struct {
	context.Context
	attempt uint64
}

func (c attemptCtx) Value(key any) any {
	if _, ok := key.(attemptKey); ok {
		return c.attempt
	}
	return c.Context.Value(key)
}

// Attempt returns the attempt of the keyed request whose handler got ctx
// (exchange.Request.Attempt): a number that grows with every run of the
// key, on any controller. ok is false for a request without a key. A
// handler passes it to its store as a fencing token, so that a run that
// resumes after a pause, once the key has run again elsewhere, is refused
// there: the store keeps the highest attempt it saw for the key and
// refuses an effect with a lower one. See docs/request-response.md,
// "Idempotency keys".
func Attempt(ctx context.Context) (attempt uint64, ok bool) {
	a, ok := ctx.Value(attemptKey{}).(uint64)
	return a, ok
}
