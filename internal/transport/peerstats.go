package transport

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// PeerStats are the counters of the traffic with one other node, by its
// transport address, in and out.
type PeerStats struct {
	Peer                string
	FramesIn, FramesOut uint64 // frames (ticks not included)
	BytesIn, BytesOut   uint64 // their bytes, length prefixes included
	BadFrames           uint64 // frames from it that were too large or did not decode
}

// maxPeerStats bounds the peers counted one by one; the traffic of the
// others is counted under OtherPeers.
const maxPeerStats = 4096

// OtherPeers is the Peer of the counters of the peers beyond the first
// 4,096 addresses.
const OtherPeers = "other"

type peerCounters struct {
	framesIn, framesOut, bytesIn, bytesOut, badFrames atomic.Uint64
}

// peerTable holds the counters of each peer, created on first use and
// kept for the transport's life (a peer that comes back keeps its
// counts).
type peerTable struct {
	mu sync.Mutex
	m  map[string]*peerCounters
}

func (pt *peerTable) of(addr string) *peerCounters {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.m == nil {
		pt.m = map[string]*peerCounters{}
	}
	if c, ok := pt.m[addr]; ok {
		return c
	}
	if len(pt.m) >= maxPeerStats {
		addr = OtherPeers
		if c, ok := pt.m[addr]; ok {
			return c
		}
	}
	c := &peerCounters{}
	pt.m[addr] = c
	return c
}

// PeerStats returns the counters of every peer this transport exchanged
// frames with, by address.
func (t *Transport) PeerStats() []PeerStats {
	t.peerStats.mu.Lock()
	out := make([]PeerStats, 0, len(t.peerStats.m))
	for addr, c := range t.peerStats.m {
		out = append(out, PeerStats{Peer: addr, FramesIn: c.framesIn.Load(), FramesOut: c.framesOut.Load(),
			BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(), BadFrames: c.badFrames.Load()})
	}
	t.peerStats.mu.Unlock()
	slices.SortFunc(out, func(a, b PeerStats) int { return strings.Compare(a.Peer, b.Peer) })
	return out
}
