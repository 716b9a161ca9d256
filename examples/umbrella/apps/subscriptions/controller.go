package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// ControllerName is the name of the application Controller.
const ControllerName = "subscriptions"

// Counters and facts of the application Controller, in its node's stats.
const (
	Served  = "subscriptions.served"  // requests answered (as the leader)
	Sweeps  = "subscriptions.sweeps"  // sweeps run (as the leader)
	Refused = "subscriptions.refused" // requests that reached it while not the leader
	Leading = "subscriptions.leader"  // fact: "yes" while it leads
)

// ErrNotLeader: a request reached a controller that is not the leader
// (in the moment the leader changes).
var ErrNotLeader = errors.New("subscriptions: not the leader")

// Controller is the application subscriptions: one controller.
func Controller(st *stats.Set) release.App {
	return release.App{
		Keys: Keys,
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := ConfigFrom(env)
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{supervisor.Worker("controller", func() actor.Server {
					return &controller{cfg: cfg, st: st, m: exchange.Membership{Exchange: exchange.Named(cfg.Exchange)}, lists: map[string][]string{}}
				})},
			})
		},
	}
}

// controller is the gen_server; its state is touched only in its process.
type controller struct {
	actor.BaseServer
	cfg     Config
	st      *stats.Set
	m       exchange.Membership
	leading bool
	members []*actor.PID        // the exchange's controllers, this one included
	lists   map[string][]string // user -> "access/client", sorted
}

type sweep struct{}

func (c *controller) Init(p *actor.Process) error {
	c.m.Join(p)
	p.SendAfter(c.cfg.Sweep, sweep{})
	return nil
}

func (c *controller) Terminate(p *actor.Process, _ error) {
	c.st.SetFact(Leading, "")
	c.m.Leave(p)
}

func (c *controller) HandleInfo(p *actor.Process, msg any) {
	switch ev := c.m.Handle(p, msg).(type) {
	case *exchange.Leader:
		c.members = slices.Clone(ev.Members)
		c.setLeading(ev.Is(p.Self()))
	case *exchange.MemberUp:
		c.members = append(c.members, ev.Member.PID)
		if c.leading { // the newcomer gets the whole lists
			for user, list := range c.lists {
				for _, m := range list {
					_ = p.Send(ev.Member.PID, &Change{Add: true, User: user, Member: m})
				}
			}
		}
	case *exchange.MemberDown:
		c.members = slices.DeleteFunc(c.members, func(x *actor.PID) bool { return x.Equal(ev.Member.PID) })
	case *exchange.ExchangeDown:
		c.setLeading(false)
	case *Change:
		if !c.leading {
			c.apply(ev)
		}
	case sweep:
		if c.leading {
			c.st.Add(Sweeps, 1)
			for user, list := range c.lists {
				if len(list) == 0 {
					delete(c.lists, user)
				}
			}
		}
		p.SendAfter(c.cfg.Sweep, sweep{})
	}
}

func (c *controller) setLeading(on bool) {
	c.leading = on
	if on {
		c.st.SetFact(Leading, "yes")
	} else {
		c.st.SetFact(Leading, "")
	}
}

func (c *controller) HandleCall(p *actor.Process, msg any) (any, error) {
	req, ok, err := exchange.AsRequest(msg, 0)
	if !ok {
		return nil, actor.ErrUnhandled
	}
	if err != nil {
		return nil, err
	}
	if !c.leading {
		c.st.Add(Refused, 1)
		return nil, ErrNotLeader
	}
	c.st.Add(Served, 1)
	var user string
	switch m := req.Msg.(type) {
	case *Subscribe:
		user = m.GetUser()
		c.change(p, &Change{Add: true, User: user, Member: m.GetAccess() + "/" + m.GetClient()})
	case *Unsubscribe:
		user = m.GetUser()
		c.change(p, &Change{Add: false, User: user, Member: m.GetAccess() + "/" + m.GetClient()})
	case *ListSubscribers:
		user = m.GetUser()
	default:
		return nil, fmt.Errorf("subscriptions: unknown request %T", req.Msg)
	}
	total := 0
	for _, l := range c.lists {
		total += len(l)
	}
	return &Subscribers{User: user, Clients: slices.Clone(c.lists[user]), Total: uint64(total), Leader: p.Node().Name()}, nil
}

// change applies ch here and sends it to the other members.
func (c *controller) change(p *actor.Process, ch *Change) {
	c.apply(ch)
	for _, m := range c.members {
		if !m.Equal(p.Self()) {
			_ = p.Send(m, ch)
		}
	}
}

func (c *controller) apply(ch *Change) {
	list := c.lists[ch.GetUser()]
	i, found := slices.BinarySearch(list, ch.GetMember())
	switch {
	case ch.GetAdd() && !found:
		list = slices.Insert(list, i, ch.GetMember())
	case !ch.GetAdd() && found:
		list = slices.Delete(list, i, i+1)
	}
	c.lists[ch.GetUser()] = list
}
