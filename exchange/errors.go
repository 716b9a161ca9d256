package exchange

import "errors"

// Errors a client gets from an exchange; errors.Is works on them across
// nodes too (see actor.RemoteError).
var (
	// ErrNoController: no controller (in the requested service group)
	// could take the request.
	ErrNoController = errors.New("exchange: no controller")
	// ErrExchangeNotFound: no exchange of that name runs on the node.
	ErrExchangeNotFound = errors.New("exchange: not found")
	// ErrRejected: middleware or the strategy's function refused the request.
	ErrRejected = errors.New("exchange: rejected")
	// ErrTooLarge: the payload exceeds the limit (default 4 MiB).
	ErrTooLarge = errors.New("exchange: payload too large")
	// ErrBadRequest: the request could not be decoded (an unregistered
	// message type, say).
	ErrBadRequest = errors.New("exchange: bad request")
	// ErrRedirectLoop: a request was redirected more than MaxHops times.
	ErrRedirectLoop = errors.New("exchange: too many redirects")
	// ErrInvalidSpec: a Spec failed Validate.
	ErrInvalidSpec = errors.New("exchange: invalid spec")
	// ErrBadDecision: a Func strategy's Route returned an invalid Decision
	// (more than one of Targets, Redirect and Reject, or a target that is
	// not among the members it was shown): a bug of the exchange's Route,
	// not of the request, which went nowhere.
	ErrBadDecision = errors.New("exchange: bad routing decision")
)

// Errors of keyed requests (Request.IdempotencyKey); see Idempotency.
var (
	// ErrKeyUnsupported: a request with an idempotency key that cannot be
	// de-duplicated: one that wants every reply (CallAll), a stream or an
	// interaction, whose answers are more than one reply.
	ErrKeyUnsupported = errors.New("exchange: idempotency key not supported")
	// ErrKeyReused: the request's idempotency key is in the exchange's
	// window with another payload (or service tag): a client reused a key
	// for another request. Nothing ran.
	ErrKeyReused = errors.New("exchange: idempotency key reused with another request")
	// ErrKeysFull: runs in flight fill the exchange's bounds of keys
	// (Idempotency.MaxKeys, MaxBytes), or a key's waiting duplicates
	// theirs: the request did not run. It is safe to repeat later.
	ErrKeysFull = errors.New("exchange: idempotency keys full")
	// ErrStale: a controller did not start a keyed run because the bound
	// its exchange set for the start had passed (the run waited too long
	// on the way, in a paused node say: the exchange may have run the key
	// elsewhere since), or could not be checked. The handler did not run;
	// the exchange sends the run again with a fresh bound, and a client
	// may repeat the request. See Idempotency.Lease.
	ErrStale = errors.New("exchange: keyed run too old to start")
)
