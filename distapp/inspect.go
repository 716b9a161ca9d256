package distapp

import (
	"slices"
	"sort"
)

// AppView is what a node sees of one of its distributed applications, for
// operators: where it runs and which nodes stand by.
type AppView struct {
	Name string
	// Phase is this node's: "standby", "running" or "handing" (see Status).
	Phase string
	// RunningOn is the node that runs it, "" if none does now.
	RunningOn string
	// Standbys are the other nodes whose manager takes part, by name.
	Standbys []string
}

// Overview lists the distributed applications this coordinator started,
// by name, as this node sees them now.
func (c *Coordinator) Overview() []AppView {
	c.mu.Lock()
	names := make([]string, 0, len(c.managers))
	for name := range c.managers {
		names = append(names, name)
	}
	status := make(map[string]Status, len(c.status))
	for k, v := range c.status {
		status[k] = v
	}
	c.mu.Unlock()
	sort.Strings(names)
	out := make([]AppView, 0, len(names))
	for _, name := range names {
		v := AppView{Name: name, Phase: status[name].Phase}
		v.RunningOn, _ = c.Where(name)
		for _, e := range c.cl.LookupAll(presentName(name)) {
			if e.Node != v.RunningOn && !slices.Contains(v.Standbys, e.Node) {
				v.Standbys = append(v.Standbys, e.Node)
			}
		}
		sort.Strings(v.Standbys)
		out = append(out, v)
	}
	return out
}
