package ops

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard-go/switchboard/cluster"
)

// healthz answers 200 while the node runs (the process is up and its
// node not stopped), 503 once it has stopped.
func (o *Ops) healthz(w http.ResponseWriter, _ *http.Request) {
	select {
	case <-o.cfg.Node.Done():
		http.Error(w, "stopped", http.StatusServiceUnavailable)
	default:
		_, _ = fmt.Fprintln(w, "ok")
	}
}

// readyz answers 200 once the node is ready (see NotReady), else 503
// with the reasons, a line each.
func (o *Ops) readyz(w http.ResponseWriter, _ *http.Request) {
	if why := o.NotReady(); len(why) > 0 {
		http.Error(w, strings.Join(why, "\n"), http.StatusServiceUnavailable)
		return
	}
	_, _ = fmt.Fprintln(w, "ready")
}

// NotReady says why the node is not ready, nil if it is: it has stopped,
// it has not joined a cluster (unless Standalone), an application of
// ReadyApps is not running, or the Ready check fails.
func (o *Ops) NotReady() []string {
	var why []string
	select {
	case <-o.cfg.Node.Done():
		return []string{"node stopped"}
	default:
	}
	if !o.cfg.Standalone && cluster.From(o.cfg.Node) == nil {
		why = append(why, "not in a cluster")
	}
	if len(o.cfg.ReadyApps) > 0 {
		var running []string
		for _, a := range o.cfg.Apps.Running() {
			running = append(running, a.Name)
		}
		for _, a := range o.cfg.ReadyApps {
			if !slices.Contains(running, a) {
				why = append(why, fmt.Sprintf("application %s not running", a))
			}
		}
	}
	if o.cfg.Ready != nil {
		if err := o.cfg.Ready(); err != nil {
			why = append(why, err.Error())
		}
	}
	return why
}
