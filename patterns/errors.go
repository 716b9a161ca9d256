package patterns

import "errors"

// ErrUnexpectedReply: the reply is not of the type CallAs asked for.
var ErrUnexpectedReply = errors.New("patterns: unexpected reply type")
