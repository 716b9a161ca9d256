package dashboard

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/supervisor"
)

// nodeRound is what one node's inspection found in a round.
type nodeRound struct {
	view      NodeView
	err       error
	exchanges []ExchangeView
	pubsub    []PubSubView
	queues    []QueueView
}

// collect asks every member of the cluster (the node alone if it joined
// none) what it runs, all at once, and makes the round's snapshot. Only
// the dashboard's goroutine calls it (rates and roster are its own).
func (d *Dashboard) collect(ctx context.Context) Snapshot {
	n := d.cfg.Node
	members, viaErr := d.membersOf(ctx)
	rounds := make([]nodeRound, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
			defer cancel()
			rounds[i] = d.inspectNode(ctx, m)
		})
	}
	wg.Wait()

	now := d.cfg.Now()
	snap := Snapshot{Time: now, Observer: n.Name(), Interval: d.cfg.Interval.Seconds(),
		Exchanges: []ExchangeView{}, PubSub: []PubSubView{}, Queues: []QueueView{}} // [] in JSON, not null
	var answered, failed []NodeView
	for _, r := range rounds {
		if r.err != nil {
			failed = append(failed, NodeView{Name: r.view.Name, Address: r.view.Address, Error: r.err.Error()})
			continue
		}
		answered = append(answered, r.view)
		for _, e := range r.exchanges {
			key := "ex/" + e.Node + "/" + e.Name
			e.RoutedRate = d.rates.rate(key+"/routed", e.Routed, now)
			e.ErrorRate = d.rates.rate(key+"/errors", e.Rejected+e.NoController, now)
			snap.Exchanges = append(snap.Exchanges, e)
		}
		for _, p := range r.pubsub {
			key := "ps/" + p.Node + "/" + p.Name
			p.PublishRate = d.rates.rate(key+"/published", p.Published, now)
			p.DeliverRate = d.rates.rate(key+"/delivered", p.Delivered, now)
			snap.PubSub = append(snap.PubSub, p)
		}
		for _, q := range r.queues {
			key := "tq/" + q.Node + "/" + q.Name
			q.SubmitRate = d.rates.rate(key+"/submitted", q.Submitted, now)
			q.AckRate = d.rates.rate(key+"/acked", q.Acked, now)
			snap.Queues = append(snap.Queues, q)
		}
	}
	d.rates.roll()
	snap.Nodes = d.roster.update(now, answered, failed)
	if viaErr != nil {
		snap.Errors = append(snap.Errors, "members from "+d.cfg.Via+": "+viaErr.Error())
	}
	for _, f := range failed {
		snap.Errors = append(snap.Errors, "node "+f.Name+": "+f.Error)
	}
	return snap
}

// membersOf returns the members to ask: those of the node's cluster
// (itself alone if it joined none), or those Via lists (the last ones it
// listed, with its error, while it does not answer).
func (d *Dashboard) membersOf(ctx context.Context) ([]cluster.Member, error) {
	n := d.cfg.Node
	if d.cfg.Via == "" {
		if cl := cluster.From(n); cl != nil {
			return cl.Members(), nil
		}
		return []cluster.Member{{Name: n.Name(), Address: n.Address()}}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	info, err := inspect.Node(ctx, n, d.cfg.Via)
	switch {
	case err != nil:
		if d.members == nil {
			return []cluster.Member{{Name: d.cfg.Via, Address: d.cfg.Via}}, err
		}
		return d.members, err
	case len(info.Members) == 0:
		d.members = []cluster.Member{{Name: info.Name, Address: info.Address}}
	default:
		d.members = info.Members
	}
	return d.members, nil
}

// inspectNode asks the inspector of the node m, then each of its
// applications' supervisors and each of its exchanges.
func (d *Dashboard) inspectNode(ctx context.Context, m cluster.Member) nodeRound {
	n := d.cfg.Node
	r := nodeRound{view: NodeView{Name: m.Name, Address: m.Address}}
	start := time.Now()
	info, err := inspect.Node(ctx, n, m.Address)
	if err != nil {
		r.err = err
		return r
	}
	v := &r.view
	v.RTT = time.Since(start).Seconds()
	v.Started, v.Processes, v.Registered, v.Counters = info.Started, info.Processes, len(info.Registered), info.Counters
	names := map[string]string{info.Address: info.Name}
	for _, mb := range info.Members {
		names[mb.Address] = mb.Name
		if mb.Name != info.Name {
			v.Links = append(v.Links, mb.Name)
		}
	}
	for _, a := range info.Applications {
		tree := inspect.Tree{ChildInfo: supervisor.ChildInfo{Child: supervisor.Child{PID: a.Supervisor, Type: supervisor.TypeSupervisor}}}
		if t, err := inspect.SupervisionTree(ctx, n, a.Supervisor); err == nil {
			tree = t
		}
		app := AppView{Name: a.Name, Restart: a.Restart.String(), Tree: treeView(tree)}
		app.Tree.ID = a.Name
		v.Apps = append(v.Apps, app)
	}
	for _, a := range info.Distributed {
		v.DistApps = append(v.DistApps, DistAppView{Name: a.Name, Phase: a.Phase, RunningOn: a.RunningOn, Standbys: a.Standbys})
	}
	for _, e := range info.Exchanges {
		addr := exchange.At(m.Address, e.Name)
		start := time.Now()
		switch e.Kind {
		case exchange.Kind:
			r.exchanges = append(r.exchanges, exchangeView(ctx, n, addr, m.Name, names))
			r.exchanges[len(r.exchanges)-1].RTT = time.Since(start).Seconds()
		case pubsub.Kind:
			r.pubsub = append(r.pubsub, pubsubView(ctx, n, addr, m.Name))
		case tasks.Kind:
			r.queues = append(r.queues, queueView(ctx, n, addr, m.Name))
		}
	}
	return r
}

func exchangeView(ctx context.Context, n *actor.Node, addr exchange.Address, node string, names map[string]string) ExchangeView {
	v := ExchangeView{Name: addr.Name, Node: node}
	info, err := exchange.Inspect(ctx, n, addr)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	v.Strategy = info.Strategy.String()
	v.Routed, v.Rejected, v.NoController = info.Stats.Routed, info.Stats.Rejected, info.Stats.NoController
	if info.Leader != nil {
		v.Leader, v.LeaderPID = nodeName(info.Leader, names), pidString(info.Leader, names)
	}
	v.Controllers = []ControllerView{}
	for _, mb := range info.Members {
		v.Controllers = append(v.Controllers, ControllerView{
			PID: pidString(mb.PID, names), Node: nodeName(mb.PID, names), ServiceTag: mb.ServiceTag,
			Leader: info.Leader != nil && mb.PID.Equal(info.Leader),
		})
	}
	return v
}

func pubsubView(ctx context.Context, n *actor.Node, addr exchange.Address, node string) PubSubView {
	v := PubSubView{Name: addr.Name, Node: node}
	info, err := pubsub.Describe(ctx, n, addr)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	st := info.Stats
	v.Subscriptions, v.Subscribers, v.Published, v.Delivered = uint64(st.Subscriptions), uint64(st.Subscribers), st.Published, st.Delivered
	if info.Upstream.Name != "" {
		v.Upstream, v.Connected = info.Upstream.Name, info.UpstreamPID != nil
	}
	return v
}

func queueView(ctx context.Context, n *actor.Node, addr exchange.Address, node string) QueueView {
	v := QueueView{Name: addr.Name, Node: node}
	st, err := tasks.Inspect(ctx, n, addr)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	v.Ready, v.InFlight, v.Workers, v.DeadPending = st.Ready, st.InFlight, st.Workers, st.DeadLetterPending
	v.Submitted, v.Acked, v.DeadLettered = st.Submitted, st.Acked, st.DeadLettered
	return v
}

// treeView shows t, with its PIDs as their ids alone: a tree lives on
// one node (PIDs of other nodes cannot be children).
func treeView(t inspect.Tree) TreeView {
	v := TreeView{ID: t.ID, Type: "worker", Restarts: t.Restarts}
	if t.PID != nil {
		v.PID = "<" + strings.TrimPrefix(t.PID.GetId(), "@") + ">"
	}
	if t.Type == supervisor.TypeSupervisor {
		v.Type, v.Strategy = "supervisor", t.Strategy.String()
	}
	if t.ID != "" {
		v.Restart = t.Restart.String()
	}
	for _, c := range t.Children {
		v.Children = append(v.Children, treeView(c))
	}
	return v
}

// nodeName is the name of the node of pid, its address if unknown.
func nodeName(pid *actor.PID, names map[string]string) string {
	if name, ok := names[pid.GetAddress()]; ok {
		return name
	}
	return pid.GetAddress()
}

// pidString shows a PID as its id on its node's name (its address if
// unknown): "<7>@a@host", "<exchange:orders>@a@host" (a named PID).
func pidString(pid *actor.PID, names map[string]string) string {
	if pid == nil {
		return ""
	}
	return "<" + strings.TrimPrefix(pid.GetId(), "@") + ">@" + nodeName(pid, names)
}
