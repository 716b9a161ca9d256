package cluster_test

import (
	"errors"
	"testing"

	"github.com/switchboard-go/switchboard/cluster"
)

// mixTable is the routing table of the Mix and OTP guide's KV.Router:
// [{?a..?m, :"foo@computer-name"}, {?n..?z, :"bar@computer-name"}].
func mixTable(t testing.TB) *cluster.Ranges {
	t.Helper()
	r, err := cluster.NewRanges(
		cluster.Range{From: 'a', To: 'm', Node: "foo@computer-name"},
		cluster.Range{From: 'n', To: 'z', Node: "bar@computer-name"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRangesOwner(t *testing.T) {
	r := mixTable(t)
	for _, tc := range []struct {
		key, want string
		err       error
	}{
		{key: "hello", want: "foo@computer-name"}, // the guide's KV.Router.route("hello", ...)
		{key: "world", want: "bar@computer-name"}, // and ("world", ...)
		{key: "a", want: "foo@computer-name"},     // first byte of the first range
		{key: "m", want: "foo@computer-name"},     // last byte of the first range
		{key: "n", want: "bar@computer-name"},     // first byte of the second
		{key: "z", want: "bar@computer-name"},     // last byte of the second
		{key: "mzzz", want: "foo@computer-name"},  // only the first byte counts
		{key: "`", err: cluster.ErrNoRoute},       // 'a'-1
		{key: "{", err: cluster.ErrNoRoute},       // 'z'+1
		{key: "Hello", err: cluster.ErrNoRoute},   // upper case: the guide's no_entry_error
		{key: "\x00", err: cluster.ErrNoRoute},
		{key: "\xff", err: cluster.ErrNoRoute},
		{key: "", err: cluster.ErrEmptyKey},
	} {
		got, err := r.Owner(tc.key)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || got != "" {
				t.Errorf("Owner(%q) = %q, %v; want error %v", tc.key, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Owner(%q) = %q, %v; want %q", tc.key, got, err, tc.want)
		}
	}
}

func TestNewRanges(t *testing.T) {
	rg := func(from, to byte, node string) cluster.Range { return cluster.Range{From: from, To: to, Node: node} }
	for _, tc := range []struct {
		name    string
		entries []cluster.Range
		ok      bool
		probe   map[string]string // key -> owner ("" for no route)
	}{
		{name: "mix guide", ok: true, entries: []cluster.Range{rg('a', 'm', "foo"), rg('n', 'z', "bar")},
			probe: map[string]string{"a": "foo", "z": "bar", "A": ""}},
		{name: "any order", ok: true, entries: []cluster.Range{rg('n', 'z', "bar"), rg('a', 'm', "foo")},
			probe: map[string]string{"m": "foo", "n": "bar"}},
		{name: "every byte", ok: true, entries: []cluster.Range{rg(0, 0xff, "all")},
			probe: map[string]string{"\x00": "all", "\xff": "all", "k": "all"}},
		{name: "single bytes", ok: true, entries: []cluster.Range{rg('x', 'x', "x"), rg('y', 'y', "y")},
			probe: map[string]string{"x": "x", "y": "y", "w": "", "z": ""}},
		{name: "a gap", ok: true, entries: []cluster.Range{rg('a', 'c', "p"), rg('e', 'g', "q")},
			probe: map[string]string{"c": "p", "d": "", "e": "q"}},
		{name: "one node, two ranges", ok: true, entries: []cluster.Range{rg('a', 'c', "p"), rg('x', 'z', "p")},
			probe: map[string]string{"b": "p", "y": "p", "m": ""}},
		{name: "empty table", ok: true, probe: map[string]string{"a": ""}},
		{name: "overlap by one byte", entries: []cluster.Range{rg('a', 'm', "foo"), rg('m', 'z', "bar")}},
		{name: "overlap, unsorted", entries: []cluster.Range{rg('k', 'z', "bar"), rg('a', 'm', "foo")}},
		{name: "inside another", entries: []cluster.Range{rg('a', 'z', "foo"), rg('c', 'd', "bar")}},
		{name: "same range twice", entries: []cluster.Range{rg('a', 'm', "foo"), rg('a', 'm', "foo")}},
		{name: "inverted", entries: []cluster.Range{rg('z', 'a', "foo")}},
		{name: "no node", entries: []cluster.Range{rg('a', 'z', "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := cluster.NewRanges(tc.entries...)
			if !tc.ok {
				if !errors.Is(err, cluster.ErrInvalidTable) || r != nil {
					t.Fatalf("NewRanges = %v, %v; want ErrInvalidTable", r, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(r.Entries()); got != len(tc.entries) {
				t.Fatalf("%d entries; want %d", got, len(tc.entries))
			}
			for key, want := range tc.probe {
				got, err := r.Owner(key)
				if want == "" && !errors.Is(err, cluster.ErrNoRoute) || want != "" && (err != nil || got != want) {
					t.Errorf("Owner(%q) = %q, %v; want %q", key, got, err, want)
				}
			}
		})
	}
}

func TestRangesZeroValue(t *testing.T) {
	var zero cluster.Ranges
	var nilRanges *cluster.Ranges
	for _, r := range []*cluster.Ranges{&zero, nilRanges} {
		if _, err := r.Owner("a"); !errors.Is(err, cluster.ErrNoRoute) {
			t.Fatalf("zero Ranges: %v; want ErrNoRoute", err)
		}
		if len(r.Entries()) != 0 {
			t.Fatal("zero Ranges has entries")
		}
	}
}

func TestRangeString(t *testing.T) {
	got := cluster.Range{From: 'a', To: 'm', Node: "foo@computer-name"}.String()
	if want := `?a..?m => "foo@computer-name"`; got != want {
		t.Fatalf("String = %s; want %s", got, want)
	}
	if got := (cluster.Range{From: 0, To: 0xff, Node: "x"}).String(); got != `0x00..0xff => "x"` {
		t.Fatalf("String = %s", got)
	}
}

// FuzzRangesOwner checks NewRanges and Owner against a naive model: spec is
// read as (from, to, node) triples.
func FuzzRangesOwner(f *testing.F) {
	f.Add([]byte("amAnzB"), "hello")
	f.Add([]byte("amAmzB"), "m")
	f.Add([]byte("\x00\xffA"), "")
	f.Add([]byte("za\x00"), "q")
	nodes := []string{"", "a@h", "b@h", "c@h"} // "" is the invalid node
	f.Fuzz(func(t *testing.T, spec []byte, key string) {
		var es []cluster.Range
		for i := 0; i+2 < len(spec) && len(es) < 12; i += 3 {
			es = append(es, cluster.Range{From: spec[i], To: spec[i+1], Node: nodes[int(spec[i+2])%len(nodes)]})
		}
		valid := true
		for i, a := range es {
			if a.Node == "" || a.From > a.To {
				valid = false
			}
			for _, b := range es[i+1:] {
				if a.From <= b.To && b.From <= a.To {
					valid = false
				}
			}
		}
		r, err := cluster.NewRanges(es...)
		if !valid {
			if !errors.Is(err, cluster.ErrInvalidTable) {
				t.Fatalf("NewRanges(%v) = %v; want ErrInvalidTable", es, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("NewRanges(%v): %v", es, err)
		}
		got, err := r.Owner(key)
		if key == "" {
			if !errors.Is(err, cluster.ErrEmptyKey) {
				t.Fatalf("Owner(\"\") = %q, %v", got, err)
			}
			return
		}
		want := ""
		for _, e := range es {
			if e.From <= key[0] && key[0] <= e.To {
				want = e.Node
			}
		}
		if want == "" && !errors.Is(err, cluster.ErrNoRoute) || want != "" && (err != nil || got != want) {
			t.Fatalf("Owner(%q) = %q, %v; want %q (table %v)", key, got, err, want, es)
		}
	})
}

func BenchmarkRangesOwner(b *testing.B) {
	r := mixTable(b)
	keys := []string{"apple", "zebra", "hello", "world", "mango", "nectarine"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.Owner(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
