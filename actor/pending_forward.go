package actor

import "sync"

// Fail fast across a forwarding hop. A call that a node forwards (Forward:
// an exchange between a client and a controller) is answered by its
// callee straight to the caller, so the caller's pending entry knows only
// the node it sent to, the forwarder's. The forwarder is the one node that
// both knows where the call went and holds a connection to that node:
// forwardLog remembers, per node, the calls it forwarded there, and when
// that node goes down (the transport reports it: a connection broke, or
// cluster membership disconnected it) the forwarder answers each of them
// with a *NodeDownError on the callee's behalf. A caller whose reply had
// already come has released its id by then, and the late answer is
// dropped, as any reply to an unknown id is (a caller that takes many
// replies, CallAll's, may still be waiting for others and takes it).
//
// The forwarder never learns that a reply went by, so the log cannot
// forget answered calls; it keeps the most recent forwardsPerNode calls to
// each node instead (each shard its last forwardsPerShard), a ring that
// overwrites the oldest. That bounds its memory (24 bytes a slot, 192 KiB
// per node at most, allocated as it fills and freed when the node goes
// down) and the burst of answers a node going down causes; a call that
// waited while more than forwardsPerNode others were forwarded to the same
// node falls back to its deadline. Not logged: calls whose reply goes to
// the node they are forwarded to (their caller goes down with it), and
// calls of a Pending that watches that node already (ReplyTo.watched: a
// client sending to its exchange's node), so a client logs nothing.
type forwardLog struct {
	nodes sync.Map // node address -> *forwardRing
}

const (
	forwardShards     = 8 // concurrent forwarders (an exchange routes on every connection's reader) rarely share a lock
	forwardsPerShard  = 1024
	forwardsPerNode   = forwardShards * forwardsPerShard
	forwardSlotsFirst = 16
)

type forwardRing struct {
	shards [forwardShards]forwardShard
}

type forwardShard struct {
	mu    sync.Mutex
	slots []replyTo
	next  int      // the oldest slot once the shard is full
	gone  bool     // taken by the node going down: add to a new ring
	_     [16]byte // a shard per cache line
}

// add records a call forwarded to the node at addr whose reply goes to rt.
func (l *forwardLog) add(addr string, rt replyTo) {
	for {
		v, ok := l.nodes.Load(addr)
		if !ok {
			v, _ = l.nodes.LoadOrStore(addr, new(forwardRing))
		}
		s := &v.(*forwardRing).shards[rt.ref%forwardShards]
		s.mu.Lock()
		if s.gone { // the node went down meanwhile: a call forwarded now is answered at its next going down
			s.mu.Unlock()
			l.nodes.CompareAndDelete(addr, v)
			continue
		}
		switch {
		case len(s.slots) < cap(s.slots):
			s.slots = append(s.slots, rt)
		case len(s.slots) < forwardsPerShard:
			grown := make([]replyTo, len(s.slots), min(max(2*cap(s.slots), forwardSlotsFirst), forwardsPerShard))
			copy(grown, s.slots)
			s.slots = append(grown, rt)
		default:
			s.slots[s.next] = rt
			s.next = (s.next + 1) % forwardsPerShard
		}
		s.mu.Unlock()
		return
	}
}

// take removes the log of the node at addr and returns its calls.
func (l *forwardLog) take(addr string) []replyTo {
	v, ok := l.nodes.LoadAndDelete(addr)
	if !ok {
		return nil
	}
	var out []replyTo
	for i := range v.(*forwardRing).shards {
		s := &v.(*forwardRing).shards[i]
		s.mu.Lock()
		out = append(out, s.slots...)
		s.slots, s.gone = nil, true
		s.mu.Unlock()
	}
	return out
}

// answerForwarded answers the calls forwarded to the node at addr, which
// went down, with reason.
func (n *Node) answerForwarded(addr string, reason error) {
	for _, rt := range n.forwards.take(addr) {
		n.reply(rt, nil, reason)
	}
}
