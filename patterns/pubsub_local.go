package patterns

import (
	"sync"
	"sync/atomic"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// localExchanges keeps, per node, a handle to the process of each
// exchange that Publish found on its own node, so that a publish neither
// builds the exchange's PID (three allocations) nor looks its process up
// by name twice. A handle is used only while the process is alive and
// still holds the exchange's name there (one look-up of the name per
// publish): then it is what exchange.Address.Resolve and a Send to its
// NamedPID would reach. It holds at most maxLocalExchanges names and
// starts again empty when full.
type localExchanges struct {
	m sync.Map // exchange name -> *localExchange
	n atomic.Int32
}

type localExchange struct {
	reg string     // exchange.RegisteredName
	pid *actor.PID // the process that held the name when it was found
	h   actor.Local
}

type localExchangesKey struct{}

const maxLocalExchanges = 256

// localExchangeOf returns a handle to the exchange name on node n, false
// if no live process of n holds its name.
func localExchangeOf(n *actor.Node, name string) (actor.Local, bool) {
	c, _ := n.Value(localExchangesKey{}).(*localExchanges)
	if c != nil {
		if v, ok := c.m.Load(name); ok {
			e := v.(*localExchange)
			if n.Whereis(e.reg) == e.pid && e.h.Alive() {
				return e.h, true
			}
		}
	}
	reg := exchange.RegisteredName(name)
	pid := n.Whereis(reg)
	if pid == nil {
		return actor.Local{}, false
	}
	h, ok := n.Local(pid)
	if !ok {
		return actor.Local{}, false
	}
	if c == nil || c.n.Load() >= maxLocalExchanges {
		c = &localExchanges{} // two publishers may both start one: a handle lost, no harm
		n.SetValue(localExchangesKey{}, c)
	}
	if _, loaded := c.m.Swap(name, &localExchange{reg: reg, pid: pid, h: h}); !loaded {
		c.n.Add(1)
	}
	return h, true
}
