package transport

import (
	"fmt"
	"net"
)

// errTooManyPending is why a connection was closed as soon as accepted.
var errTooManyPending = fmt.Errorf("%w: too many connections in their handshake (MaxPendingConns)", ErrHandshake)

// admit counts c as a connection in its handshake, or closes it at once
// if MaxPendingConns are; serve uncounts it when its handshake ends. Only
// accept calls it, so the check and the count cannot race.
func (t *Transport) admit(c net.Conn) bool {
	if t.pending.Load() >= int64(t.cfg.MaxPendingConns) {
		t.pendingRefused.Add(1)
		peer := c.RemoteAddr().String()
		_ = c.Close()
		t.logRefusal("connection refused", peer, errTooManyPending)
		return false
	}
	t.pending.Add(1)
	return true
}
