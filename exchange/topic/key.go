package topic

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLen bounds a key or pattern in bytes, as AMQP's short strings.
const MaxLen = 255

// Errors of parsing; test with errors.Is.
var (
	// ErrInvalidKey: a routing key is too long, not UTF-8, or has a word
	// that is "*" or "#" (pattern syntax, never a key's word).
	ErrInvalidKey = errors.New("topic: invalid routing key")
	// ErrInvalidPattern: a pattern is too long, not UTF-8, or has "*" or
	// "#" inside a word ("a*.b") rather than as a whole word.
	ErrInvalidPattern = errors.New("topic: invalid pattern")
)

// Words splits a valid key or pattern into its words: none for "".
func Words(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

// ParseKey checks a routing key and returns its words.
func ParseKey(key string) ([]string, error) {
	words, err := appendKey(nil, key)
	if err != nil {
		return nil, err
	}
	return words, nil
}

// CheckKey checks a routing key as ParseKey does, without allocating.
func CheckKey(key string) error {
	var buf [16]string
	_, err := appendKey(buf[:0], key)
	return err
}

// appendKey checks key and appends its words to dst (none for "").
func appendKey(dst []string, key string) ([]string, error) {
	if err := checkText(key); err != nil {
		return dst, fmt.Errorf("%w: %q: %s", ErrInvalidKey, clip(key), err)
	}
	if key == "" {
		return dst, nil
	}
	i := 0
	for w := range strings.SplitSeq(key, ".") {
		i++
		if w == "*" || w == "#" {
			return dst, fmt.Errorf("%w: %q: word %d is %q, a wildcard", ErrInvalidKey, clip(key), i, w)
		}
		dst = append(dst, w)
	}
	return dst, nil
}

// ParsePattern checks a pattern and returns its words.
func ParsePattern(pattern string) ([]string, error) {
	if err := checkText(pattern); err != nil {
		return nil, fmt.Errorf("%w: %q: %s", ErrInvalidPattern, clip(pattern), err)
	}
	words := Words(pattern)
	for i, w := range words {
		if w != "*" && w != "#" && strings.ContainsAny(w, "*#") {
			return nil, fmt.Errorf("%w: %q: word %d (%q) mixes a wildcard with text", ErrInvalidPattern, clip(pattern), i+1, w)
		}
	}
	return words, nil
}

func checkText(s string) error {
	if len(s) > MaxLen {
		return fmt.Errorf("%d bytes, limit %d", len(s), MaxLen)
	}
	if !utf8.ValidString(s) {
		return errors.New("not UTF-8")
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Match reports whether key matches pattern, both already checked: the
// reference the Trie is tested against.
func Match(pattern, key []string) bool {
	// seen[i][j]: pattern[i:] against key[j:] already failed.
	seen := make(map[[2]int]bool)
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(pattern) {
			return j == len(key)
		}
		if seen[[2]int{i, j}] {
			return false
		}
		ok := false
		switch pattern[i] {
		case "#":
			for k := j; k <= len(key) && !ok; k++ {
				ok = match(i+1, k)
			}
		case "*":
			ok = j < len(key) && match(i+1, j+1)
		default:
			ok = j < len(key) && key[j] == pattern[i] && match(i+1, j+1)
		}
		if !ok {
			seen[[2]int{i, j}] = true
		}
		return ok
	}
	return match(0, 0)
}
