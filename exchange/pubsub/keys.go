package pubsub

import (
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// pidKey is a map key for a subscriber.
func pidKey(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

// ResyncInterval is how often a proxy checks its subscriptions upstream by
// default (Spec.Resync, Stats.Restored).
const ResyncInterval = 5 * time.Second

const (
	resolveTimeout = 2 * time.Second       // bounds a directory lookup made from the exchange
	minBackoff     = 10 * time.Millisecond // the first wait before a proxy subscribes upstream again
)
