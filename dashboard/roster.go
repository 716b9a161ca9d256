package dashboard

import (
	"slices"
	"strings"
	"time"
)

// roster remembers the nodes the dashboard has seen, so that a node that
// stops answering or leaves the cluster stays on the page as down, until
// it has been down for forget.
type roster struct {
	forget time.Duration
	known  map[string]NodeView
}

func newRoster(forget time.Duration) *roster {
	return &roster{forget: forget, known: map[string]NodeView{}}
}

// update takes one round: the nodes that answered (up), and the members
// that did not (Name, Address and Error set). A known node in neither has
// gone from the cluster. It returns every node to show, by name.
func (r *roster) update(now time.Time, answered, failed []NodeView) []NodeView {
	seen := map[string]bool{}
	for _, v := range answered {
		v.Up, v.LastSeen, v.Error = true, now, ""
		r.known[v.Name] = v
		seen[v.Name] = true
	}
	for _, f := range failed {
		seen[f.Name] = true
		r.down(now, f.Name, f.Address, f.Error)
	}
	for name := range r.known {
		if !seen[name] {
			r.down(now, name, "", "gone from the cluster")
		}
	}
	out := make([]NodeView, 0, len(r.known))
	for name, v := range r.known {
		if !v.Up && now.Sub(v.LastSeen) > r.forget {
			delete(r.known, name)
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b NodeView) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// down marks a node down with why, keeping what was last seen of it. A
// node never seen up is down since now.
func (r *roster) down(now time.Time, name, address, why string) {
	v, ok := r.known[name]
	if !ok {
		v = NodeView{Name: name, Address: address, LastSeen: now}
	}
	v.Up, v.Error, v.Links, v.RTT = false, why, nil, 0
	r.known[name] = v
}
