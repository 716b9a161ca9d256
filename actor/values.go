package actor

// SetValue attaches v to the node under key, replacing what was there; a nil
// v removes it. Packages built on the node (the cluster, for one) keep their
// per-node state here, so no state is global. Use an unexported type for key,
// as with context.WithValue.
func (n *Node) SetValue(key, v any) {
	if v == nil {
		n.values.Delete(key)
		return
	}
	n.values.Store(key, v)
}

// Value returns what SetValue attached under key, or nil.
func (n *Node) Value(key any) any {
	v, _ := n.values.Load(key)
	return v
}
