package cluster

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultVirtualNodes is how many points each node has on a Ring unless
// NewRing is given another number. With 256 points a node's share of the
// keys is within a few percent of 1/N.
const DefaultVirtualNodes = 256

// Ring is a consistent-hashing table, as Riak's ring: each node has a number
// of points (virtual nodes) on a circle of 64-bit hashes, and a key belongs
// to the node of the first point at or after the key's hash. When a node
// joins, it takes over only the arcs in front of its own points, so only
// about 1/N of the keys move, all of them to the new node; when it leaves,
// only its keys move.
//
// The hash is FNV-1a 64 followed by a 64-bit finalizer (MurmurHash3's fmix64
// for keys, SplitMix64 for points), so every process computes the same
// owner for the same key and the same set of nodes, whatever the order in
// which the nodes were added.
//
// A Ring is safe for concurrent use: Owner takes no lock (it reads an
// immutable snapshot), Add and Remove build the next snapshot under a
// mutex. The zero value is an empty ring with DefaultVirtualNodes.
type Ring struct {
	vnodes int
	mu     sync.Mutex // serialises Add and Remove
	state  atomic.Pointer[ringState]
}

// ringState is one immutable snapshot of a ring.
type ringState struct {
	nodes  []string // sorted
	points []uint64 // sorted
	owners []uint32 // owners[i] is the index in nodes of points[i]'s node
}

// NewRing returns a ring of nodes with vnodes points each (0 or less:
// DefaultVirtualNodes). An empty node name is an error wrapping
// ErrInvalidTable.
func NewRing(vnodes int, nodes ...string) (*Ring, error) {
	r := &Ring{vnodes: vnodes}
	if err := r.Add(nodes...); err != nil {
		return nil, err
	}
	return r, nil
}

// VirtualNodes returns the number of points each node has.
func (r *Ring) VirtualNodes() int {
	if r.vnodes <= 0 {
		return DefaultVirtualNodes
	}
	return r.vnodes
}

// Add puts nodes on the ring; nodes already on it are left alone. An empty
// name is an error wrapping ErrInvalidTable, and then no node is added.
func (r *Ring) Add(nodes ...string) error {
	for _, n := range nodes {
		if n == "" {
			return fmt.Errorf("%w: empty node name", ErrInvalidTable)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.Nodes()
	next := slices.Clone(cur)
	for _, n := range nodes {
		if _, found := slices.BinarySearch(next, n); !found {
			next = append(next, n)
			slices.Sort(next)
		}
	}
	if len(next) != len(cur) {
		r.state.Store(r.build(next))
	}
	return nil
}

// Remove takes nodes off the ring; names not on it are ignored.
func (r *Ring) Remove(nodes ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.Nodes()
	next := slices.DeleteFunc(slices.Clone(cur), func(n string) bool { return slices.Contains(nodes, n) })
	if len(next) != len(cur) {
		r.state.Store(r.build(next))
	}
}

// Nodes returns the nodes on the ring, sorted.
func (r *Ring) Nodes() []string {
	if s := r.state.Load(); s != nil {
		return slices.Clone(s.nodes)
	}
	return nil
}

// Has reports whether node is on the ring.
func (r *Ring) Has(node string) bool {
	s := r.state.Load()
	if s == nil {
		return false
	}
	_, found := slices.BinarySearch(s.nodes, node)
	return found
}

// Owner returns the node of the first point at or after key's hash,
// wrapping around; see Table. An empty ring is ErrNoRoute.
func (r *Ring) Owner(key string) (string, error) {
	if key == "" {
		return "", ErrEmptyKey
	}
	s := r.state.Load()
	if s == nil || len(s.points) == 0 {
		return "", fmt.Errorf("%w: the ring has no nodes", ErrNoRoute)
	}
	return s.nodes[s.owners[s.search(keyHash(key))]], nil
}

// search returns the index of the first point at or after h, wrapping to 0.
func (s *ringState) search(h uint64) int {
	lo, hi := 0, len(s.points)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.points[m] < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(s.points) {
		return 0
	}
	return lo
}

// build lays out the points of nodes (sorted). Points that collide, which
// 64-bit hashes make all but impossible, are ordered by node name, so the
// owner is the same in every process.
func (r *Ring) build(nodes []string) *ringState {
	v := r.VirtualNodes()
	type point struct {
		h   uint64
		own uint32
	}
	ps := make([]point, 0, len(nodes)*v)
	for i, n := range nodes {
		base := fnv1a64(n)
		for j := range v {
			ps = append(ps, point{vnodeHash(base, j), uint32(i)})
		}
	}
	slices.SortFunc(ps, func(a, b point) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.own, b.own)
	})
	s := &ringState{nodes: nodes, points: make([]uint64, len(ps)), owners: make([]uint32, len(ps))}
	for i, p := range ps {
		s.points[i], s.owners[i] = p.h, p.own
	}
	return s
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
	golden64    = 0x9e3779b97f4a7c15 // SplitMix64's increment
)

// fnv1a64 is FNV-1a, 64 bits, without hash/fnv's allocation.
func fnv1a64(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// fmix64 is MurmurHash3's finalizer: every input bit affects every output
// bit, which FNV alone does poorly for short, similar keys.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// keyHash places a key on the ring.
func keyHash(key string) uint64 { return fmix64(fnv1a64(key)) }

// vnodeHash places the j-th point of a node whose name hashes to base: the
// j-th output of a SplitMix64 generator seeded with base, so a node's points
// are spread independently of one another.
func vnodeHash(base uint64, j int) uint64 {
	z := base + uint64(j+1)*golden64
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
