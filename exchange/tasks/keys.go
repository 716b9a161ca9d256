package tasks

import (
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// pidKey is a map key for a worker.
func pidKey(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

// resolveTimeout bounds a directory lookup made from the queue.
const resolveTimeout = 2 * time.Second
