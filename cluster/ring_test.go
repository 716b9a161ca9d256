package cluster_test

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/switchboard-go/switchboard/cluster"
)

func ringOf(t testing.TB, vnodes int, nodes ...string) *cluster.Ring {
	t.Helper()
	r, err := cluster.NewRing(vnodes, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ringKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("bucket-%d", i)
	}
	return keys
}

func ringOwners(t testing.TB, r *cluster.Ring, keys []string) []string {
	t.Helper()
	owners := make([]string, len(keys))
	for i, k := range keys {
		o, err := r.Owner(k)
		if err != nil {
			t.Fatalf("Owner(%q): %v", k, err)
		}
		owners[i] = o
	}
	return owners
}

// TestRingDeterministic pins owners: every process, of every build, must
// place keys where these do, or nodes would disagree on who owns what.
func TestRingDeterministic(t *testing.T) {
	r := ringOf(t, 0, "a@host", "b@host", "c@host")
	golden := map[string]string{
		"hello": "c@host", "world": "b@host", "bucket-0": "c@host", "bucket-1": "c@host", "shopping": "a@host", "x": "c@host",
	}
	for k, want := range golden {
		got, err := r.Owner(k)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Owner(%q) = %q; want %q", k, got, want)
		}
	}
	// The order in which nodes join does not matter.
	keys := ringKeys(20000)
	want := ringOwners(t, r, keys)
	other := ringOf(t, 0, "c@host")
	if err := other.Add("a@host", "b@host", "a@host"); err != nil {
		t.Fatal(err)
	}
	if got := ringOwners(t, other, keys); !slices.Equal(got, want) {
		t.Fatal("a ring built in another order places keys elsewhere")
	}
}

// TestRingDistribution checks each node's share of 100,000 keys. With V
// random points per node, a node's share varies around 1/N with a relative
// standard deviation of about 1/sqrt(V) (6% for 256 points, 12.5% for 64),
// so the tolerance is four of those.
func TestRingDistribution(t *testing.T) {
	keys := ringKeys(100000)
	for _, tc := range []struct {
		nodes, vnodes int
	}{
		{3, 0}, {4, 0}, {5, 0}, {10, 0}, {10, 64}, {20, 1024},
	} {
		t.Run(fmt.Sprintf("%d nodes x %d", tc.nodes, tc.vnodes), func(t *testing.T) {
			var names []string
			for i := range tc.nodes {
				names = append(names, fmt.Sprintf("node%d@host", i))
			}
			r := ringOf(t, tc.vnodes, names...)
			tol := 4 / math.Sqrt(float64(r.VirtualNodes()))
			count := map[string]int{}
			for _, o := range ringOwners(t, r, keys) {
				count[o]++
			}
			fair := float64(len(keys)) / float64(tc.nodes)
			for _, n := range names {
				share := float64(count[n]) / fair
				t.Logf("%s: %d keys, %.3f of a fair share", n, count[n], share)
				if share < 1-tol || share > 1+tol {
					t.Errorf("%s has %d keys, %.3f of a fair share (tolerance %.2f)", n, count[n], share, tol)
				}
			}
		})
	}
}

// TestRingMovedKeys measures what consistent hashing promises: a fourth node
// joining three takes about a quarter of 100,000 keys, all of them from the
// others to itself, and leaving gives exactly those back.
func TestRingMovedKeys(t *testing.T) {
	keys := ringKeys(100000)
	r := ringOf(t, 0, "a@host", "b@host", "c@host")
	before := ringOwners(t, r, keys)
	if err := r.Add("d@host"); err != nil {
		t.Fatal(err)
	}
	after := ringOwners(t, r, keys)
	moved := 0
	for i := range keys {
		if before[i] != after[i] {
			moved++
			if after[i] != "d@host" {
				t.Fatalf("key %q moved from %s to %s, not to the new node", keys[i], before[i], after[i])
			}
		}
	}
	frac := float64(moved) / float64(len(keys))
	t.Logf("3 -> 4 nodes: %d of %d keys moved (%.2f%%; ideal 25%%)", moved, len(keys), 100*frac)
	if frac < 0.18 || frac > 0.32 {
		t.Fatalf("%.2f%% of the keys moved; want about 25%%", 100*frac)
	}

	// For comparison, hash mod N moves three keys in four.
	naive := 0
	for _, k := range keys {
		h := fnv.New64a()
		h.Write([]byte(k))
		if h.Sum64()%3 != h.Sum64()%4 {
			naive++
		}
	}
	t.Logf("3 -> 4 nodes with hash mod N instead: %.2f%% moved", 100*float64(naive)/float64(len(keys)))

	r.Remove("d@host")
	if back := ringOwners(t, r, keys); !slices.Equal(back, before) {
		t.Fatal("removing the new node did not restore the old owners")
	}
	// A node leaving gives away its keys only.
	r.Remove("b@host")
	for i, o := range ringOwners(t, r, keys) {
		if before[i] != "b@host" && o != before[i] {
			t.Fatalf("key %q of %s moved to %s when b left", keys[i], before[i], o)
		}
		if o == "b@host" {
			t.Fatalf("key %q still on b", keys[i])
		}
	}
}

func TestRingMembership(t *testing.T) {
	var r cluster.Ring // the zero value is an empty ring
	if _, err := r.Owner("k"); !errors.Is(err, cluster.ErrNoRoute) {
		t.Fatalf("empty ring: %v; want ErrNoRoute", err)
	}
	if r.VirtualNodes() != cluster.DefaultVirtualNodes {
		t.Fatalf("VirtualNodes = %d", r.VirtualNodes())
	}
	if err := r.Add("b", "a", "b"); err != nil {
		t.Fatal(err)
	}
	if got := r.Nodes(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Nodes = %v", got)
	}
	if !r.Has("a") || r.Has("c") {
		t.Fatal("Has is wrong")
	}
	if _, err := r.Owner(""); !errors.Is(err, cluster.ErrEmptyKey) {
		t.Fatalf("empty key: %v", err)
	}
	if err := r.Add("c", ""); !errors.Is(err, cluster.ErrInvalidTable) || r.Has("c") {
		t.Fatalf("Add with an empty name: %v (c added: %v)", err, r.Has("c"))
	}
	if _, err := cluster.NewRing(8, ""); !errors.Is(err, cluster.ErrInvalidTable) {
		t.Fatalf("NewRing with an empty name: %v", err)
	}
	r.Remove("zzz") // not a member: nothing happens
	r.Remove("a")
	for _, k := range ringKeys(100) {
		if o, err := r.Owner(k); err != nil || o != "b" {
			t.Fatalf("Owner(%q) = %q, %v on a ring of b", k, o, err)
		}
	}
	r.Remove("b")
	if _, err := r.Owner("k"); !errors.Is(err, cluster.ErrNoRoute) || len(r.Nodes()) != 0 {
		t.Fatalf("emptied ring: %v, %v", err, r.Nodes())
	}
}

// TestRingConcurrent runs Owner while nodes come and go (for the race
// detector): every answer is a node that was on the ring at some point.
func TestRingConcurrent(t *testing.T) {
	r := ringOf(t, 32, "a", "b")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o, err := r.Owner(fmt.Sprintf("k%d-%d", g, i))
				if err != nil || !slices.Contains([]string{"a", "b", "c", "d"}, o) {
					t.Errorf("Owner = %q, %v", o, err)
					return
				}
			}
		}()
	}
	for range 200 {
		if err := r.Add("c", "d"); err != nil {
			t.Fatal(err)
		}
		r.Remove("c", "d")
	}
	close(stop)
	wg.Wait()
}

func BenchmarkRingOwner(b *testing.B) {
	for _, n := range []int{3, 100} {
		b.Run(fmt.Sprintf("%d nodes", n), func(b *testing.B) {
			var names []string
			for i := range n {
				names = append(names, fmt.Sprintf("node%d@host", i))
			}
			r := ringOf(b, 0, names...)
			keys := ringKeys(1024)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := r.Owner(keys[i&1023]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
