package topic

import (
	"errors"
	"slices"
	"testing"
)

// The semantics of AMQP's topic exchange (RabbitMQ), case by case.
var matchCases = []struct {
	pattern, key string
	want         bool
}{
	{"TYPE.*", "TYPE.host", true},
	{"TYPE.*", "TYPE", false},
	{"TYPE.*", "TYPE.host.x", false},
	{"*.*", "a.b", true},
	{"*.*", "a", false},
	{"*.*", "a.b.c", false},
	{"*", "", false},
	{"*", "a", true},
	{"#", "", true},
	{"#", "a", true},
	{"#", "a.b.c", true},
	{"", "", true},
	{"", "a", false},
	{"a", "a", true},
	{"a", "b", false},
	{"a.b", "a.b", true},
	{"a.b", "a.bc", false},
	// "#" at the start, middle, end.
	{"#.c", "c", true},
	{"#.c", "a.b.c", true},
	{"#.c", "a.b.c.d", false},
	{"a.#.c", "a.c", true},
	{"a.#.c", "a.b.c", true},
	{"a.#.c", "a.b.x.c", true},
	{"a.#.c", "a.b.x", false},
	{"a.#", "a", true},
	{"a.#", "a.b.c", true},
	{"a.#", "b.a", false},
	{"#.#", "", true},
	{"#.#", "a.b.c", true},
	{"#.*", "", false},
	{"#.*", "a", true},
	{"*.#", "a.b", true},
	{"*.#.*", "a", false},
	{"*.#.*", "a.b", true},
	{"#.a.#", "x.a.y", true},
	{"#.a.#", "a", true},
	{"#.a.#", "x.y", false},
	// Empty words.
	{"a..b", "a..b", true},
	{"a.*.b", "a..b", true},
	{"a.#.b", "a..b", true},
	{"*", ".", false},
	{"*.*", ".", true},
	{".", ".", true},
	{"a.", "a.", true},
	{"a.", "a", false},
	{"#", ".", true},
}

func TestMatchTable(t *testing.T) {
	for _, c := range matchCases {
		p, err := ParsePattern(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseKey(c.key)
		if err != nil {
			t.Fatal(err)
		}
		if got := Match(p, k); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.key, got, c.want)
		}
		var tr Trie[int]
		if _, err := tr.Add(c.pattern, 1); err != nil {
			t.Fatal(err)
		}
		got := false
		if err := tr.Match(c.key, func(int) { got = true }); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("Trie: %q against %q = %v, want %v", c.key, c.pattern, got, c.want)
		}
	}
}

func TestInvalid(t *testing.T) {
	long := make([]byte, MaxLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, k := range []string{"a.*", "#", "a.#.b", "*", string(long), "a\xffb"} {
		if _, err := ParseKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseKey(%q) = %v", k, err)
		}
	}
	for _, p := range []string{"a*", "a.b#", "#a", "a.*b.c", "**", "##", string(long), "\xff"} {
		if _, err := ParsePattern(p); !errors.Is(err, ErrInvalidPattern) {
			t.Errorf("ParsePattern(%q) = %v", p, err)
		}
	}
	var tr Trie[int]
	if _, err := tr.Add("a*", 1); !errors.Is(err, ErrInvalidPattern) {
		t.Fatalf("Add of a bad pattern: %v", err)
	}
	if err := tr.Match("a.*", func(int) { t.Fatal("called") }); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Match of a bad key: %v", err)
	}
	if tr.Len() != 0 {
		t.Fatal("a bad pattern was added")
	}
}

func collect(t *testing.T, tr *Trie[int], key string) []int {
	t.Helper()
	var got []int
	if err := tr.Match(key, func(v int) { got = append(got, v) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

func TestTrieSubscribers(t *testing.T) {
	var tr Trie[int]
	add := func(p string, v int) {
		t.Helper()
		if ok, err := tr.Add(p, v); err != nil || !ok {
			t.Fatalf("Add(%q, %d) = %v %v", p, v, ok, err)
		}
	}
	add("log.*", 1)
	add("log.#", 2)
	add("#", 3)
	add("log.error", 4)
	add("log.*", 5)
	add("#.error", 1) // 1 holds two patterns that both match log.error
	if ok, _ := tr.Add("log.*", 1); ok {
		t.Fatal("a duplicate subscription was added")
	}
	if got := collect(t, &tr, "log.error"); !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("log.error -> %v", got)
	}
	if got := collect(t, &tr, "log"); !slices.Equal(got, []int{2, 3}) {
		t.Fatalf("log -> %v", got)
	}
	if got := collect(t, &tr, "metrics.cpu"); !slices.Equal(got, []int{3}) {
		t.Fatalf("metrics.cpu -> %v", got)
	}
	if tr.Len() != 6 {
		t.Fatalf("Len = %d", tr.Len())
	}
	if tr.Remove("log.*", 9) || tr.Remove("nothing.here", 1) {
		t.Fatal("removed what was not there")
	}
	for _, s := range []struct {
		p string
		v int
	}{{"log.*", 1}, {"log.#", 2}, {"#", 3}, {"log.error", 4}, {"log.*", 5}, {"#.error", 1}} {
		if !tr.Remove(s.p, s.v) {
			t.Fatalf("Remove(%q, %d) failed", s.p, s.v)
		}
	}
	if tr.Len() != 0 || !tr.root.empty() {
		t.Fatalf("trie not empty after removing everything: %d", tr.Len())
	}
}

// The trie agrees with the reference matcher on every pattern and key of a
// small alphabet.
func TestTrieAgreesWithMatch(t *testing.T) {
	words := []string{"a", "b", "", "*", "#"}
	var patterns []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		patterns = append(patterns, prefix)
		if n == 0 {
			return
		}
		for _, w := range words {
			if prefix == "" {
				gen(w, n-1)
			} else {
				gen(prefix+"."+w, n-1)
			}
		}
	}
	gen("", 3)
	var tr Trie[int]
	for i, p := range patterns {
		if _, err := tr.Add(p, i); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for _, p := range patterns {
		if _, err := ParseKey(p); err == nil {
			keys = append(keys, p)
		}
	}
	for _, k := range keys {
		kw, _ := ParseKey(k)
		var want []int
		for i, p := range patterns {
			pw, _ := ParsePattern(p)
			if Match(pw, kw) {
				want = append(want, i)
			}
		}
		if got := collect(t, &tr, k); !slices.Equal(got, want) {
			t.Fatalf("key %q: trie %v, reference %v", k, got, want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.pattern, c.key)
	}
	f.Add("#.#.#.#.#.#.#.#", "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.b")
	f.Fuzz(func(t *testing.T, pattern, key string) {
		pw, perr := ParsePattern(pattern)
		kw, kerr := ParseKey(key)
		var tr Trie[int]
		_, err := tr.Add(pattern, 1)
		if (err == nil) != (perr == nil) {
			t.Fatalf("Add and ParsePattern disagree on %q: %v / %v", pattern, err, perr)
		}
		got := false
		err = tr.Match(key, func(int) { got = true })
		if (err == nil) != (kerr == nil) {
			t.Fatalf("Match and ParseKey disagree on %q: %v / %v", key, err, kerr)
		}
		if perr != nil || kerr != nil {
			return
		}
		if want := Match(pw, kw); got != want {
			t.Fatalf("%q against %q: trie %v, reference %v", key, pattern, got, want)
		}
		if !tr.Remove(pattern, 1) || tr.Len() != 0 || !tr.root.empty() {
			t.Fatalf("remove of %q left the trie non-empty", pattern)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		words, err := ParseKey(key)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if (key == "") != (len(words) == 0) {
			t.Fatalf("%q -> %q", key, words)
		}
		for _, w := range words {
			if w == "*" || w == "#" {
				t.Fatalf("%q has a wildcard word", key)
			}
		}
	})
}
