package access

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
)

// ErrBadFrame: a WebSocket frame from a client is not a ClientFrame (not
// protobuf JSON of one, or one without an operation, or naming an
// invalid user).
var ErrBadFrame = errors.New("access: bad client frame")

// maxUser bounds a user id in a frame (it becomes a routing key word).
const maxUser = 128

// ParseClientFrame decodes a client's frame, checking that it asks for
// one operation on a user id that can be a word of a routing key.
func ParseClientFrame(b []byte) (*ClientFrame, error) {
	var f ClientFrame
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	var user string
	switch op := f.Op.(type) {
	case *ClientFrame_Subscribe:
		user = op.Subscribe
	case *ClientFrame_Unsubscribe:
		user = op.Unsubscribe
	default:
		return nil, fmt.Errorf("%w: no operation", ErrBadFrame)
	}
	if !validUser(user) {
		return nil, fmt.Errorf("%w: user %q: 1 to %d letters, digits, '-' or '_'", ErrBadFrame, user, maxUser)
	}
	return &f, nil
}

func validUser(u string) bool {
	if u == "" || len(u) > maxUser || !utf8.ValidString(u) {
		return false
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
