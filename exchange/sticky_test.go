package exchange

import (
	"fmt"
	"testing"
)

// The sticky strategies bind by their hash and by nothing else: with
// StickyFunc, keys of one Hash go to one controller whatever the keys, and
// keys of different hashes spread; with Sticky, different keys spread.
func TestStickyBindsByItsHash(t *testing.T) {
	picks := func(s Strategy, hash func(*Request) uint64) map[string]map[string]bool {
		m := &members{}
		for _, id := range []string{"a", "b", "c"} {
			m.join(Member{PID: pid(id)})
		}
		m.appoint()
		r := newRouter(&Spec{Strategy: s, Hash: hash}, m)
		got := map[string]map[string]bool{} // hash group -> controllers
		for i := range 30 {
			req := &Request{RoutingKey: fmt.Sprintf("key-%d", i)}
			group := "all"
			if hash != nil {
				group = fmt.Sprint(hash(req))
			}
			targets, _, err := r.route(req)
			if err != nil || len(targets) != 1 {
				t.Fatalf("%v: route %s = %v, %v", s, req.RoutingKey, targets, err)
			}
			if got[group] == nil {
				got[group] = map[string]bool{}
			}
			got[group][targets[0].PID.Id] = true
		}
		return got
	}
	same := picks(StickyFunc, func(*Request) uint64 { return 7 })
	if len(same["7"]) != 1 {
		t.Fatalf("sticky_func: 30 keys of one hash went to %v; want one controller", same["7"])
	}
	spread := picks(StickyFunc, func(r *Request) uint64 { // key-i hashes to i
		var i uint64
		_, _ = fmt.Sscanf(r.RoutingKey, "key-%d", &i)
		return i
	})
	all := map[string]bool{}
	for _, cs := range spread {
		for c := range cs {
			all[c] = true
		}
	}
	if len(all) < 2 {
		t.Fatalf("sticky_func: 30 different hashes all went to %v", all)
	}
	if got := picks(Sticky, nil)["all"]; len(got) < 2 {
		t.Fatalf("sticky: 30 different keys all went to %v", got)
	}
}
