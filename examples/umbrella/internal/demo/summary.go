package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/access"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/statuspb"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// snapshot is the release at one moment, as the summary shows it.
type snapshot struct {
	at        time.Time
	statuses  map[string]*statuspb.Status
	exchanges []exView
	proxies   map[string]*statuspb.PubSub // by access node
	ws        map[string][2]uint64        // by access node: clients, updates received
	subs      *subscriptions.Subscribers
}

// exView is one exchange: where it runs, its leader and controllers.
type exView struct {
	name, kind, node, leader string
	controllers              []string
	extra                    string
}

func collect(ctx context.Context, r *rig, rep *report) *snapshot {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s := &snapshot{at: time.Now(), statuses: r.statuses(ctx), proxies: map[string]*statuspb.PubSub{}}
	if r.ws != nil {
		s.ws = r.ws.counts()
	}
	for _, name := range []string{"users", "time", "subscriptions"} {
		v := exView{name: name, node: short(r.where(exchange.RegisteredName(name)))}
		if x, _ := findExchange(s.statuses, name); x == nil {
			v.extra = "not running"
		} else {
			v.kind = x.GetStrategy()
			if x.GetLeader() != "" {
				v.leader = r.nodeOf(x.GetLeader())
			}
			for _, m := range x.GetMembers() {
				v.controllers = append(v.controllers, r.nodeOf(m))
			}
		}
		s.exchanges = append(s.exchanges, v)
	}
	pv := exView{name: "profiles", kind: "pub-sub", node: short(r.where(exchange.RegisteredName("profiles")))}
	if st := findPubSub(s.statuses, "profiles", ""); st != nil {
		pv.extra = fmt.Sprintf("%d subscriptions (the access nodes' proxies), %d published, %d copies sent to other nodes", st.Subscriptions, st.Published, st.Remote)
	} else {
		pv.extra = "not running"
	}
	s.exchanges = append(s.exchanges, pv)
	for _, q := range []string{"documents", "documents.dead"} {
		v := exView{name: q, kind: "tasks", node: short(r.where(exchange.RegisteredName(q)))}
		if st, err := tasks.Inspect(ctx, r.self, exchange.Named(q)); err == nil {
			v.extra = fmt.Sprintf("%d workers, %d ready, %d in flight, %d acked, %d redelivered, %d dead-lettered", st.Workers, st.Ready, st.InFlight, st.Acked, st.Redelivered, st.DeadLettered)
		} else {
			v.extra = errKind(err)
		}
		s.exchanges = append(s.exchanges, v)
	}
	for _, n := range r.byRole("access") {
		if st := findPubSub(s.statuses, "profiles.proxy", n); st != nil {
			s.proxies[n] = st
		}
	}
	if l, err := subscriptions.List(ctx, r.client, subscriptions.Config{}, "u0"); err == nil {
		s.subs = l
	}
	return s
}

// render is the whole summary, one screen.
func (s *snapshot) render(r *rig, rep *report, live bool) string {
	var b strings.Builder
	el := s.at.Sub(rep.started).Round(time.Second)
	fmt.Fprintf(&b, "Switchboard umbrella: the user-profile system on %d nodes (OS processes), %s   t=%v\n\n", len(r.names), r.provider(), el)
	b.WriteString("NODES and their applications\n")
	for _, n := range r.names {
		st, ok := s.statuses[n]
		if !ok {
			fmt.Fprintf(&b, "  %-9s %-7s DOWN\n", short(n), r.roleOf(n))
			continue
		}
		apps := strings.Join(st.GetApps(), ", ")
		if st.GetFacts()[subscriptions.Leading] == "yes" {
			apps += "  [subscriptions leader]"
		}
		fmt.Fprintf(&b, "  %-9s %-7s %s\n", short(n), st.GetRole(), apps)
	}
	b.WriteString("\nEXCHANGES\n")
	for _, v := range s.exchanges {
		fmt.Fprintf(&b, "  %-15s %-16s on %-7s", v.name, v.kind, orDash(v.node))
		if v.leader != "" {
			fmt.Fprintf(&b, " leader %-7s", v.leader)
		}
		if len(v.controllers) > 0 {
			fmt.Fprintf(&b, " controllers %s", strings.Join(v.controllers, " "))
		}
		if v.extra != "" {
			b.WriteString(" " + v.extra)
		}
		b.WriteString("\n")
	}
	now := s.at
	b.WriteString("\nREQUESTS\n")
	for _, x := range []struct {
		name string
		o    *outcomes
	}{{"users", rep.load.users}, {"time", rep.load.time}, {"uploads", rep.load.uploads}, {"scans", rep.load.scans}} {
		ok, rate, errs := x.o.snapshot(now)
		fmt.Fprintf(&b, "  %-8s %7.1f/s  %7d ok  errors: %s\n", x.name, rate, ok, kinds(errs))
	}
	b.WriteString("\nTASKS (documents)\n")
	fmt.Fprintf(&b, "  checked %d, nacked for a retry %d, redelivered %d, rejected %d, dead-lettered %d (%s)\n",
		sum(s.statuses, documents.Checked), sum(s.statuses, documents.Retried), sum(s.statuses, documents.Redelivered),
		sum(s.statuses, documents.Rejected), sumPrefix(s.statuses, documents.DeadPrefix), deadKinds(s.statuses))
	b.WriteString("\nEVENTS per access node (one copy from the hub, fanned out by the local proxy)\n")
	for _, n := range r.byRole("access") {
		st := s.statuses[n]
		p := s.proxies[n]
		ws := s.ws[n]
		fmt.Fprintf(&b, "  %-9s %3d WebSocket clients, %6d copies from the hub -> %7d deliveries, %7d received by the clients\n",
			short(n), st.GetCounters()[access.Clients], p.GetPublished(), p.GetDelivered(), ws[1])
	}
	if s.subs != nil {
		fmt.Fprintf(&b, "  subscriptions: %d recorded by the leader on %s\n", s.subs.GetTotal(), short(s.subs.GetLeader()))
	}
	b.WriteString("\nTIMELINE\n")
	lines := rep.events.lines
	if live && len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// line is the summary as one line, for output that is not a terminal.
func (s *snapshot) line(rep *report) string {
	ok, rate, errs := rep.load.users.snapshot(s.at)
	var up int
	for range s.statuses {
		up++
	}
	var ev uint64
	for _, c := range s.ws {
		ev += c[1]
	}
	line := fmt.Sprintf("t=%4.0fs  nodes up %d  users %.0f/s (%d ok, %d failed)  time %d ok  documents checked %d, dead %d  websocket events %d\n",
		s.at.Sub(rep.started).Seconds(), up, rate, ok, total(errs), func() uint64 { o, _, _ := rep.load.time.snapshot(s.at); return o }(),
		sum(s.statuses, documents.Checked), sumPrefix(s.statuses, documents.DeadPrefix), ev)
	for len(rep.printed) < len(rep.events.lines) {
		line += "  " + rep.events.lines[len(rep.printed)] + "\n"
		rep.printed = append(rep.printed, true)
	}
	return line
}

// findPubSub returns the pub-sub exchange name from the status of node
// (any node if "").
func findPubSub(sts map[string]*statuspb.Status, name, node string) *statuspb.PubSub {
	for n, st := range sts {
		if node != "" && n != node {
			continue
		}
		for _, p := range st.GetPubsubs() {
			if p.GetName() == name {
				return p
			}
		}
	}
	return nil
}

func deadKinds(sts map[string]*statuspb.Status) string {
	m := map[string]uint64{}
	for _, st := range sts {
		for k, v := range st.GetCounters() {
			if strings.HasPrefix(k, documents.DeadPrefix) {
				m[strings.TrimPrefix(k, documents.DeadPrefix)] += v
			}
		}
	}
	return kinds(m)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (r *rig) provider() string {
	if r.cfg.Consul != "" {
		return "Consul at " + r.cfg.Consul
	}
	return "embedded membership"
}

func (r *rig) roleOf(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.procs[name]; ok {
		return p.role
	}
	return ""
}
