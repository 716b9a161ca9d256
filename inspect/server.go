package inspect

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/distapp"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/inspectpb"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Name is the registered name of a node's inspector.
const Name = "switchboard:inspect"

// Sources are what a node's inspector reports besides the node itself;
// each may be nil. The cluster is the one the node joined (cluster.From).
type Sources struct {
	// Apps is the node's application controller: its running
	// applications and their supervision trees.
	Apps *supervisor.AppController
	// DistApps is the node's coordinator of distributed applications.
	DistApps *distapp.Coordinator
}

// Start spawns the node's inspector, registered as Name. Stop it with the
// node (or n.Exit on its PID).
func Start(ctx context.Context, n *actor.Node, src Sources) (*actor.PID, error) {
	return n.Spawn(ctx, &server{src: src}, actor.WithName(Name))
}

// server is a node's inspector.
type server struct {
	actor.BaseServer
	src     Sources
	started time.Time
}

func (s *server) Init(*actor.Process) error {
	s.started = time.Now()
	return nil
}

// kindTimeout bounds the question to each local exchange of its kind.
const kindTimeout = time.Second

func (s *server) HandleCall(p *actor.Process, msg any) (any, error) {
	if _, ok := msg.(*inspectpb.NodeInspect); !ok {
		return nil, actor.ErrUnhandled
	}
	n := p.Node()
	st := n.Stats()
	m := &inspectpb.NodeInfo{
		Name: n.Name(), Address: n.Address(), StartedUnixNano: s.started.UnixNano(),
		Processes: uint64(st.Processes), Counters: counters(st),
	}
	m.Registered = n.Registered()
	slices.Sort(m.Registered)
	for _, name := range m.Registered {
		ex, ok := strings.CutPrefix(name, exchange.RegisteredName(""))
		if !ok {
			continue
		}
		ref := &inspectpb.ExchangeRef{Name: ex}
		ctx, cancel := context.WithTimeout(context.Background(), kindTimeout)
		if pi, err := n.InspectProcess(ctx, actor.NamedPID(n.Address(), name)); err == nil {
			ref.Kind = pi.State["kind"]
		}
		cancel()
		m.Exchanges = append(m.Exchanges, ref)
	}
	if s.src.Apps != nil {
		for _, a := range s.src.Apps.Running() {
			m.Applications = append(m.Applications, &inspectpb.Application{Name: a.Name, Restart: int32(a.Restart), Supervisor: a.Supervisor})
		}
	}
	if s.src.DistApps != nil {
		for _, a := range s.src.DistApps.Overview() {
			m.Distributed = append(m.Distributed, &inspectpb.DistributedApp{Name: a.Name, Phase: a.Phase, RunningOn: a.RunningOn, Standbys: a.Standbys})
		}
	}
	if cl := cluster.From(n); cl != nil {
		m.Joined = true
		for _, mb := range cl.Members() {
			m.Members = append(m.Members, &inspectpb.ClusterMember{Name: mb.Name, Address: mb.Address})
		}
		slices.SortFunc(m.Members, func(a, b *inspectpb.ClusterMember) int { return strings.Compare(a.Name, b.Name) })
	}
	return m, nil
}

// counters are the numeric fields of actor.Stats by snake_case name.
func counters(st actor.Stats) map[string]uint64 {
	out := map[string]uint64{}
	v := reflect.ValueOf(st)
	for i := range v.NumField() {
		f := v.Field(i)
		var x uint64
		switch f.Kind() {
		case reflect.Int, reflect.Int64:
			x = uint64(max(f.Int(), 0))
		case reflect.Uint64:
			x = f.Uint()
		default:
			continue
		}
		out[snake(v.Type().Field(i).Name)] = x
	}
	return out
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
