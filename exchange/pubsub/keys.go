package pubsub

import (
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// pidKey is a map key for a subscriber.
func pidKey(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

// ResyncInterval is how often a proxy re-sends its subscriptions to its
// upstream (see Stats.Restored): the longest a proxy's deliveries stay lost
// when its upstream dropped it without the proxy seeing its upstream go.
const ResyncInterval = 5 * time.Second

const (
	resolveTimeout = 2 * time.Second       // bounds a directory lookup made from the exchange
	minBackoff     = 10 * time.Millisecond // the first wait before a proxy subscribes upstream again
)
