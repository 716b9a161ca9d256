package topic

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParsePattern: any string is a pattern's words or ErrInvalidPattern,
// never a panic; the words of a valid pattern join back to it and never
// mix a wildcard with text.
func FuzzParsePattern(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.pattern)
	}
	for _, s := range []string{"", "#", "*", "a*.b", "a.#b", "\xff", strings.Repeat("a", MaxLen+1), "a..b", "*.*.#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		words, err := ParsePattern(pattern)
		if err != nil {
			if !errors.Is(err, ErrInvalidPattern) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if got := strings.Join(words, "."); got != pattern {
			t.Fatalf("%q -> %q joins to %q", pattern, words, got)
		}
		for _, w := range words {
			if w != "*" && w != "#" && strings.ContainsAny(w, "*#") {
				t.Fatalf("%q accepted with word %q", pattern, w)
			}
		}
	})
}
