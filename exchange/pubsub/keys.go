package pubsub

import (
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// pidKey is a map key for a subscriber.
func pidKey(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

const (
	resolveTimeout = 2 * time.Second       // bounds a directory lookup made from the exchange
	minBackoff     = 10 * time.Millisecond // the first wait before a proxy subscribes upstream again
)
