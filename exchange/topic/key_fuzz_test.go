package topic

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzCheckKey: CheckKey gives ParseKey's answer for any string, never a
// panic; the words of a valid key are strings.Split's, none a wildcard;
// appending them to a buffer (as Trie.Match does) keeps what the buffer
// held.
func FuzzCheckKey(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.key)
	}
	for _, s := range []string{"", ".", "a..b", "#", "*", "a.*", "a.#.b", "\xff", strings.Repeat("a", MaxLen+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		words, err := ParseKey(key)
		if cerr := CheckKey(key); (cerr == nil) != (err == nil) || cerr != nil && cerr.Error() != err.Error() {
			t.Fatalf("%q: ParseKey says %v, CheckKey %v", key, err, cerr)
		}
		got, aerr := appendKey([]string{"x"}, key)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("untyped error %v", err)
			}
			if aerr == nil {
				t.Fatalf("%q: appendKey accepted what ParseKey refused", key)
			}
			return
		}
		want := []string(nil)
		if key != "" {
			want = strings.Split(key, ".")
		}
		if !slices.Equal(words, want) || aerr != nil || !slices.Equal(got, append([]string{"x"}, want...)) {
			t.Fatalf("%q -> %q, appended %q (%v); want %q", key, words, got, aerr, want)
		}
		if slices.Contains(words, "*") || slices.Contains(words, "#") {
			t.Fatalf("%q accepted with a wildcard word", key)
		}
	})
}
