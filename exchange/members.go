package exchange

import (
	"slices"

	"github.com/switchboard-go/switchboard/actor"
)

// members is an exchange's table of controller connections, in join order,
// and its leader: the controller of the oldest connection, kept while it
// has any. Appointment needs
// no vote: the exchange sees every join and every death. Pure logic, used
// by the exchange's goroutine only.
type members struct {
	list    []Member // join order
	leader  *actor.PID
	version uint64 // counts the changes of list and leader
}

func samePID(a, b *actor.PID) bool {
	return a != nil && b != nil && a.Id == b.Id && a.Address == b.Address
}

// join adds a connection; false if it is there already.
func (m *members) join(c Member) bool {
	if slices.ContainsFunc(m.list, func(x Member) bool { return samePID(x.PID, c.PID) && x.ConnTag == c.ConnTag }) {
		return false
	}
	m.list = append(m.list, c)
	m.version++
	return true
}

// leave removes one connection, or every connection of pid when all is set.
func (m *members) leave(pid *actor.PID, conn string, all bool) []Member {
	var gone []Member
	m.list = slices.DeleteFunc(m.list, func(x Member) bool {
		if samePID(x.PID, pid) && (all || x.ConnTag == conn) {
			gone = append(gone, x)
			return true
		}
		return false
	})
	if len(gone) > 0 {
		m.version++
	}
	return gone
}

// has reports whether pid has any connection left.
func (m *members) has(pid *actor.PID) bool {
	return slices.ContainsFunc(m.list, func(x Member) bool { return samePID(x.PID, pid) })
}

// hasConn reports whether connection c is in the table.
func (m *members) hasConn(c Member) bool {
	return slices.ContainsFunc(m.list, func(x Member) bool { return samePID(x.PID, c.PID) && x.ConnTag == c.ConnTag })
}

// appoint recomputes the leader: the leader stays while it has a
// connection; otherwise the controller of the oldest connection leads. It
// reports whether the leader changed.
func (m *members) appoint() bool {
	if m.leader != nil && m.has(m.leader) {
		return false
	}
	var next *actor.PID
	if len(m.list) > 0 {
		next = m.list[0].PID
	}
	if samePID(next, m.leader) || (next == nil && m.leader == nil) {
		return false
	}
	m.leader = next
	m.version++
	return true
}

// pids lists the distinct controllers, in join order.
func (m *members) pids() []*actor.PID {
	var out []*actor.PID
	for _, x := range m.list {
		if !slices.ContainsFunc(out, func(p *actor.PID) bool { return samePID(p, x.PID) }) {
			out = append(out, x.PID)
		}
	}
	return out
}

// group lists the connections of a service group ("" for all), into buf.
func (m *members) group(tag string, buf []Member) []Member {
	buf = buf[:0]
	for _, x := range m.list {
		if tag == "" || x.ServiceTag == tag {
			buf = append(buf, x)
		}
	}
	return buf
}
