package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/access"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/timesvc"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/statuspb"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// awaitServices waits until every service can serve: the users replicas,
// the time controllers, a subscriptions leader, the document checkers
// and the access nodes' HTTP servers.
func (r *rig) awaitServices(ctx context.Context) error {
	replicas, workers := 2+r.cfg.Workers, r.cfg.Workers
	var last string
	for {
		last = r.notReady(ctx, replicas, workers)
		if last == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("services not ready: %s: %w", last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// notReady says what is not ready yet, or "".
func (r *rig) notReady(ctx context.Context, replicas, workers int) string {
	ictx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	sts := r.statuses(ictx)
	for name, want := range map[string]int{"users": replicas, "time": workers, "subscriptions": workers} {
		x, _ := findExchange(sts, name)
		if x == nil {
			return fmt.Sprintf("exchange %s: not running", name)
		}
		if len(x.GetMembers()) < want {
			return fmt.Sprintf("exchange %s: %d of %d controllers", name, len(x.GetMembers()), want)
		}
		if name == "subscriptions" && x.GetLeader() == "" {
			return "exchange subscriptions: no leader"
		}
	}
	leading := 0
	for _, st := range sts {
		if st.GetFacts()[subscriptions.Leading] == "yes" {
			leading++
		}
	}
	if leading != 1 {
		return fmt.Sprintf("%d subscriptions controllers say they lead", leading)
	}
	// Each distributed application on the first node of its list (a
	// node that started first may run one until the other takes it over).
	for app, want := range map[string]string{users.CoreName: r.core[0], timesvc.HubName: r.core[0],
		documents.QueueName: r.core[1], subscriptions.HubName: r.core[1]} {
		if w := r.where("distapp.running:" + app); w != want {
			return fmt.Sprintf("%s runs on %q, not yet on %s", app, w, want)
		}
	}
	for _, q := range []string{"documents", "documents.dead"} {
		st, err := tasks.Inspect(ictx, r.self, exchange.Named(q))
		if err != nil {
			return fmt.Sprintf("queue %s: %v", q, err)
		}
		if st.Workers < workers {
			return fmt.Sprintf("queue %s: %d of %d workers", q, st.Workers, workers)
		}
	}
	for _, n := range r.byRole("access") {
		st, ok := sts[n]
		if !ok {
			return n + ": no status"
		}
		if st.GetFacts()[access.HTTP] == "" {
			return n + ": no HTTP server yet"
		}
	}
	return ""
}

// findExchange returns the exchange from the status of the node that
// runs it, and that node's name.
func findExchange(sts map[string]*statuspb.Status, name string) (*statuspb.Exchange, string) {
	for n, st := range sts {
		for _, x := range st.GetExchanges() {
			if x.GetName() == name {
				return x, n
			}
		}
	}
	return nil, ""
}
