package cluster

import (
	"errors"
	"hash/fnv"
	"testing"
)

func TestRingFNV(t *testing.T) {
	for _, s := range []string{"", "a", "foobar", "hello@computer-name", "\x00\xff"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := fnv1a64(s), h.Sum64(); got != want {
			t.Errorf("fnv1a64(%q) = %#x; hash/fnv says %#x", s, got, want)
		}
	}
	// MurmurHash3's fmix64 of 1, a published value: the finalizer is the real one.
	if got := fmix64(1); got != 0xb456bcfc34c2cb2c {
		t.Errorf("fmix64(1) = %#x", got)
	}
}

// ringModel is the naive owner: scan every point of every node.
func ringModel(nodes []string, vnodes int, key string) string {
	h := keyHash(key)
	var best, lowest string
	var bestH, lowH uint64
	for _, n := range nodes {
		base := fnv1a64(n)
		for j := range vnodes {
			p := vnodeHash(base, j)
			if p >= h && (best == "" || p < bestH || p == bestH && n < best) {
				best, bestH = n, p
			}
			if lowest == "" || p < lowH || p == lowH && n < lowest {
				lowest, lowH = n, p
			}
		}
	}
	if best == "" {
		return lowest
	}
	return best
}

// FuzzRingOwner checks Owner against the naive model, for rings of up to
// eight nodes named by the fuzzer.
func FuzzRingOwner(f *testing.F) {
	f.Add("a\x00b\x00c", uint8(4), "hello")
	f.Add("x", uint8(1), "")
	f.Add("", uint8(0), "k")
	f.Add("n1\x00n1\x00n2", uint8(16), "\xff\xff")
	f.Fuzz(func(t *testing.T, names string, v uint8, key string) {
		vnodes := int(v%16) + 1
		var nodes []string
		seen := map[string]bool{}
		start := 0
		for i := 0; i <= len(names) && len(nodes) < 8; i++ {
			if i == len(names) || names[i] == 0 {
				if n := names[start:i]; n != "" && !seen[n] {
					seen[n] = true
					nodes = append(nodes, n)
				}
				start = i + 1
			}
		}
		r, err := NewRing(vnodes, nodes...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Owner(key)
		switch {
		case key == "":
			if !errors.Is(err, ErrEmptyKey) {
				t.Fatalf("Owner(\"\") = %q, %v", got, err)
			}
		case len(nodes) == 0:
			if !errors.Is(err, ErrNoRoute) {
				t.Fatalf("empty ring: Owner = %q, %v", got, err)
			}
		default:
			if want := ringModel(nodes, vnodes, key); err != nil || got != want {
				t.Fatalf("Owner(%q) = %q, %v; model says %q (nodes %q, %d points each)", key, got, err, want, nodes, vnodes)
			}
		}
	})
}
