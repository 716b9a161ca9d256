package cluster

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Register records in the directory that name lives on this node, so that
// Lookup finds it from every node. Registering a name again renews it (it
// becomes the newest entry of the name). The entry goes away with Unregister,
// Leave, or when the node dies. An error means the provider could not store
// it now; the entry is kept and published again when the provider recovers.
func (c *Cluster) Register(ctx context.Context, name string) error {
	if !validName(name) {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	e := Entry{Name: name, Node: c.self.Name, Address: c.self.Address, Created: time.Now().UnixNano()}
	c.mu.Lock()
	if c.left() {
		c.mu.Unlock()
		return ErrLeft
	}
	c.own[name] = e
	c.rebuild()
	c.mu.Unlock()
	return c.prov.Register(ctx, e)
}

// Unregister removes this node's entry for name.
func (c *Cluster) Unregister(ctx context.Context, name string) error {
	c.mu.Lock()
	if c.left() {
		c.mu.Unlock()
		return ErrLeft
	}
	_, ok := c.own[name]
	delete(c.own, name)
	c.rebuild()
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return c.prov.Unregister(ctx, name)
}

// Lookup returns where name lives: this node if it published name, else
// the newest entry of a live member. A miss in the local cache asks the
// provider if it can answer authoritatively (Consul). ErrNotFound if no
// live node has it.
func (c *Cluster) Lookup(ctx context.Context, name string) (Entry, error) {
	if e, ok := c.cached(name); ok {
		return e, nil
	}
	if r, ok := c.prov.(Resolver); ok {
		es, err := r.Resolve(ctx, name)
		if err != nil {
			return Entry{}, err
		}
		c.mu.Lock()
		es = c.live(es)
		c.mu.Unlock()
		if len(es) > 0 {
			return newest(es), nil
		}
	}
	return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, name)
}

// LookupAll returns every live entry of name, newest first.
func (c *Cluster) LookupAll(name string) []Entry {
	return slices.Clone((*c.view.Load())[name])
}

// Names returns the directory: every live entry, by name then newest first.
func (c *Cluster) Names() []Entry {
	v := *c.view.Load()
	var out []Entry
	for _, name := range slices.Sorted(maps.Keys(v)) {
		out = append(out, v[name]...)
	}
	return out
}

// cached is the lock-free lookup: the view holds this node's own entries
// first.
func (c *Cluster) cached(name string) (Entry, bool) {
	es := (*c.view.Load())[name]
	if len(es) == 0 {
		return Entry{}, false
	}
	return es[0], true
}

// rebuild makes the view from the provider's entries and this node's own:
// only entries of live members, own first, then newest first. c.mu held.
func (c *Cluster) rebuild() {
	v := map[string][]Entry{}
	for _, e := range c.live(c.entries) {
		if e.Node != c.self.Name {
			v[e.Name] = append(v[e.Name], e)
		}
	}
	for name, es := range v {
		slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(b.Created, a.Created) })
		v[name] = es
	}
	for name, e := range c.own {
		v[name] = append([]Entry{e}, v[name]...)
	}
	c.view.Store(&v)
}

// live keeps the entries whose node is a live member at the same address.
// c.mu held.
func (c *Cluster) live(es []Entry) []Entry {
	out := make([]Entry, 0, len(es))
	for _, e := range es {
		if m, ok := c.members[e.Node]; ok && m.Address == e.Address {
			out = append(out, e)
		}
	}
	return out
}

func (c *Cluster) left() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

func newest(es []Entry) Entry {
	return slices.MaxFunc(es, func(a, b Entry) int { return cmp.Compare(a.Created, b.Created) })
}
