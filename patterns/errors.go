package patterns

import "errors"

// ErrUnexpectedReply: the reply is not of the type CallAs asked for.
var ErrUnexpectedReply = errors.New("patterns: unexpected reply type")

// ErrInvalidOption: a request's options contradict each other or the call
// (WithRetry on a request that may not be repeated, a negative bound).
var ErrInvalidOption = errors.New("patterns: invalid option")
