package inspect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/internal/inspectpb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// ErrNoInspector: the node answers, but runs no inspector (see Start).
var ErrNoInspector = errors.New("inspect: the node runs no inspector")

// NodeInfo describes a node, from its inspector.
type NodeInfo struct {
	Name, Address string
	Started       time.Time // when its inspector started
	Processes     int
	Registered    []string // registered names, sorted
	Exchanges     []ExchangeRef
	Applications  []supervisor.AppInfo
	Distributed   []distapp.AppView
	Joined        bool             // it has joined a cluster
	Members       []cluster.Member // the cluster as it sees it (Name, Address)
	// Counters are its actor.Stats, by snake_case field name
	// (bad_frames, refused, overloaded, …).
	Counters map[string]uint64
}

// ExchangeRef names an exchange running on a node, with its kind:
// exchange.Kind, pubsub.Kind or tasks.Kind ("" if it did not say).
type ExchangeRef struct{ Name, Kind string }

// Node asks the inspector of the node at address (a transport address,
// this node's own too) to describe its node. A node that is gone is
// actor.ErrNodeDown; one without an inspector ErrNoInspector.
func Node(ctx context.Context, n *actor.Node, address string) (NodeInfo, error) {
	v, err := n.Call(ctx, actor.NamedPID(address, Name), &inspectpb.NodeInspect{})
	if errors.Is(err, actor.ErrNoProcess) {
		return NodeInfo{}, fmt.Errorf("%w: %s", ErrNoInspector, address)
	}
	if err != nil {
		return NodeInfo{}, err
	}
	m, ok := v.(*inspectpb.NodeInfo)
	if !ok {
		return NodeInfo{}, fmt.Errorf("%w: %s answered %T", ErrNoInspector, address, v)
	}
	info := NodeInfo{
		Name: m.GetName(), Address: m.GetAddress(), Started: time.Unix(0, m.GetStartedUnixNano()),
		Processes: int(m.GetProcesses()), Registered: m.GetRegistered(), Joined: m.GetJoined(), Counters: m.GetCounters(),
	}
	for _, e := range m.GetExchanges() {
		info.Exchanges = append(info.Exchanges, ExchangeRef{Name: e.GetName(), Kind: e.GetKind()})
	}
	for _, a := range m.GetApplications() {
		info.Applications = append(info.Applications, supervisor.AppInfo{Name: a.GetName(), Restart: supervisor.Restart(a.GetRestart()), Supervisor: a.GetSupervisor()})
	}
	for _, d := range m.GetDistributed() {
		info.Distributed = append(info.Distributed, distapp.AppView{Name: d.GetName(), Phase: d.GetPhase(), RunningOn: d.GetRunningOn(), Standbys: d.GetStandbys()})
	}
	for _, mb := range m.GetMembers() {
		info.Members = append(info.Members, cluster.Member{Name: mb.GetName(), Address: mb.GetAddress()})
	}
	return info, nil
}

// Nodes describes every member of the cluster n joined (n alone if it
// joined none), in the cluster's order. The nodes that could not answer
// are left out and their errors joined in the error, each naming its node.
func Nodes(ctx context.Context, n *actor.Node) ([]NodeInfo, error) {
	members := []cluster.Member{{Name: n.Name(), Address: n.Address()}}
	if cl := cluster.From(n); cl != nil {
		members = cl.Members()
	}
	var out []NodeInfo
	var errs []error
	for _, m := range members {
		info, err := Node(ctx, n, m.Address)
		if err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", m.Name, err))
			continue
		}
		out = append(out, info)
	}
	return out, errors.Join(errs...)
}
