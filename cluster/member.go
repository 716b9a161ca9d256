package cluster

import (
	"maps"
	"slices"
	"strings"
)

// Member is one node of the cluster.
type Member struct {
	// Name is the node's name (name@host).
	Name string
	// Address is the node's transport address, host:port: the Address of
	// PIDs on that node.
	Address string
	// Meta is free-form metadata the node registered with.
	Meta map[string]string
	// Incarnation is when the node joined, in unix nanoseconds: a node that
	// restarts under the same name and address is a new incarnation, seen
	// as NodeDown then NodeUp.
	Incarnation int64
}

func (m Member) equal(o Member) bool {
	return m.Name == o.Name && m.Address == o.Address && m.Incarnation == o.Incarnation
}

// EventKind says what happened to a member.
type EventKind int

// The kinds of membership events.
const (
	// NodeUp: a node joined, or a node that was down (or restarted at a new
	// address) is back.
	NodeUp EventKind = iota + 1
	// NodeDown: a node left, died or stopped passing its health check.
	NodeDown
)

func (k EventKind) String() string {
	switch k {
	case NodeUp:
		return "nodeup"
	case NodeDown:
		return "nodedown"
	}
	return "unknown"
}

// Event is a change of membership, delivered to subscribers in the order
// the cluster saw the changes. A local process subscribed with MonitorNodes
// receives it as a message in HandleInfo.
type Event struct {
	Kind   EventKind
	Member Member
}

// Entry is one name in the directory: Name lives on the node Node, whose
// transport address is Address. Created orders entries of the same name:
// the newest is the one a lookup prefers, after one on the asking node.
type Entry struct {
	Name    string
	Node    string
	Address string
	Created int64
}

// diff returns the events that turn the members old into cur (both by
// name): NodeDown for those gone or changed, NodeUp for those new or
// changed, sorted by name.
func diff(old, cur map[string]Member) []Event {
	var evs []Event
	for _, name := range slices.Sorted(maps.Keys(old)) {
		if m, ok := cur[name]; !ok || !m.equal(old[name]) {
			evs = append(evs, Event{Kind: NodeDown, Member: old[name]})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cur)) {
		if m, ok := old[name]; !ok || !m.equal(cur[name]) {
			evs = append(evs, Event{Kind: NodeUp, Member: cur[name]})
		}
	}
	return evs
}

// validName reports whether s can name a node or a directory entry: not
// empty, no '/' (it is a Consul KV path segment), printable ASCII.
func validName(s string) bool {
	if s == "" || len(s) > 256 || strings.ContainsRune(s, '/') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
