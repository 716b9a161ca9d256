package patterns

import (
	"sync/atomic"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// pidCache holds the PIDs of exchanges addressed at a node (exchange.At),
// which depend on nothing but the address, and of exchanges addressed by
// name alone (exchange.Named) that run on the client's own node, valid
// while a process is registered there under the exchange's name: a
// request to one then allocates no PID (two allocations: the PID and its
// id, and a third for the registered name). A name that resolves to
// another node is not kept: the directory says where it is. The map is
// copied on write and read without a lock; it holds at most
// maxCachedPIDs addresses and starts again empty when full. The PIDs are
// shared and never written to.
type pidCache struct {
	m atomic.Pointer[map[exchange.Address]*actor.PID]
}

const maxCachedPIDs = 64

// get returns the cached PID of ex as seen from n, nil if there is none.
// A name alone is the local exchange's while a live process has its name
// on n (exchange.Address.Resolve looks there first).
func (c *pidCache) get(n *actor.Node, ex exchange.Address) *actor.PID {
	if c == nil {
		return nil
	}
	m := c.m.Load()
	if m == nil {
		return nil
	}
	pid := (*m)[ex]
	if pid != nil && ex.Node == "" && !n.Alive(pid) {
		return nil
	}
	return pid
}

// put caches pid as ex's, as resolved from n: if ex names its node, or
// if pid is on n.
func (c *pidCache) put(n *actor.Node, ex exchange.Address, pid *actor.PID) {
	if c == nil || ex.Node == "" && pid.Address != n.Address() {
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
