package actor

// PeerStats are the counters of a node's traffic with one other node, by
// that node's transport address (its PIDs' Address), in and out.
type PeerStats struct {
	Peer                string
	FramesIn, FramesOut uint64 // frames (ticks not included)
	BytesIn, BytesOut   uint64 // their bytes, length prefixes included
	BadFrames           uint64 // frames from it that were too large or did not decode
}

// PeerStats returns the counters of every node this one exchanged frames
// with since it started, sorted by address (the first 4,096 addresses;
// the traffic of any beyond them is counted under Peer "other"). Nil for
// a node without a transport.
func (n *Node) PeerStats() []PeerStats {
	if n.tr == nil {
		return nil
	}
	ts := n.tr.PeerStats()
	out := make([]PeerStats, len(ts))
	for i, s := range ts {
		out[i] = PeerStats(s)
	}
	return out
}
