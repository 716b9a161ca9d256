package actor

import (
	"maps"
	"math/rand/v2"
	"testing"
)

// few must behave as a Go map on both sides of fewMax: random puts,
// deletes and filtered deletes, checked against a map after each step.
func TestFewAsMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var f few[int, int]
		want := map[int]int{}
		keys := 1 + round%(3*fewMax) // some rounds stay a slice, some become a map
		for step := range 300 {
			k := r.IntN(keys)
			switch op := r.IntN(10); {
			case op < 6:
				f.put(k, step)
				want[k] = step
			case op < 9:
				v, ok := f.del(k)
				wv, wok := want[k]
				if ok != wok || v != wv {
					t.Fatalf("round %d step %d: del(%d) = %d, %v; want %d, %v", round, step, k, v, ok, wv, wok)
				}
				delete(want, k)
			default:
				odd := func(k, _ int) bool { return k%2 == 1 }
				f.delFunc(odd)
				maps.DeleteFunc(want, odd)
			}
			if got := maps.Collect(f.all()); !maps.Equal(got, want) || f.len() != len(want) {
				t.Fatalf("round %d step %d: few holds %v (len %d), want %v", round, step, got, f.len(), want)
			}
		}
	}
}
