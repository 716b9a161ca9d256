package tasks

import (
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// workerKey is a map key for a worker: its PID's parts, so that a look-up
// (one per message of acks) allocates nothing.
type workerKey struct{ addr, id string }

func pidKey(pid *actor.PID) workerKey { return workerKey{pid.Address, pid.Id} }

func (k workerKey) String() string { return k.addr + "/" + k.id }

// resolveTimeout bounds a directory lookup made from the queue.
const resolveTimeout = 2 * time.Second
