package patterns

import (
	"sync/atomic"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// pidCache holds the PIDs of exchanges addressed at a node
// (exchange.At), which depend on nothing but the address: a request to
// one then allocates no PID (two allocations: the PID and its id). The
// map is copied on write and read without a lock; it holds at most
// maxCachedPIDs addresses and starts again empty when full. The PIDs are
// shared and never written to.
type pidCache struct {
	m atomic.Pointer[map[exchange.Address]*actor.PID]
}

const maxCachedPIDs = 64

// get returns the cached PID of ex, nil if there is none.
func (c *pidCache) get(ex exchange.Address) *actor.PID {
	if c == nil || ex.Node == "" {
		return nil
	}
	if m := c.m.Load(); m != nil {
		return (*m)[ex]
	}
	return nil
}

// put caches pid as ex's, if ex names its node.
func (c *pidCache) put(ex exchange.Address, pid *actor.PID) {
	if c == nil || ex.Node == "" {
		return
	}
	for {
		old := c.m.Load()
		m := make(map[exchange.Address]*actor.PID, 1)
		if old != nil && len(*old) < maxCachedPIDs {
			for k, v := range *old {
				m[k] = v
			}
		}
		m[ex] = pid
		if c.m.CompareAndSwap(old, &m) {
			return
		}
	}
}
