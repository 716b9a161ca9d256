package cluster

import (
	"cmp"
	"fmt"
	"slices"
)

// Range gives the keys whose first byte is in [From, To] (both included) to
// Node. The Mix guide's {?a..?m, :"foo@computer-name"} is
// Range{From: 'a', To: 'm', Node: "foo@computer-name"}.
type Range struct {
	From, To byte
	Node     string
}

// Ranges is a table of first-byte ranges, the routing table of the Mix
// guide's KV.Router. It is immutable, so safe for concurrent use; to change
// the table, build a new one. Owner is one array lookup. The zero value (and
// a nil *Ranges) routes nothing.
type Ranges struct {
	entries []Range     // sorted by From, disjoint
	owner   [256]uint16 // first byte -> 1 + index into entries; 0: none
}

// NewRanges builds a table from entries, in any order. A range with From
// after To or without a Node, and ranges that overlap, are errors wrapping
// ErrInvalidTable. Bytes no range holds have no route.
func NewRanges(entries ...Range) (*Ranges, error) {
	es := slices.Clone(entries)
	slices.SortStableFunc(es, func(a, b Range) int { return cmp.Compare(a.From, b.From) })
	for i, e := range es {
		switch {
		case e.Node == "":
			return nil, fmt.Errorf("%w: range %s has no node", ErrInvalidTable, e)
		case e.From > e.To:
			return nil, fmt.Errorf("%w: range %s is inverted", ErrInvalidTable, e)
		case i > 0 && es[i-1].To >= e.From:
			return nil, fmt.Errorf("%w: ranges %s and %s overlap", ErrInvalidTable, es[i-1], e)
		}
	}
	r := &Ranges{entries: es}
	for i, e := range es {
		for b := int(e.From); b <= int(e.To); b++ {
			r.owner[b] = uint16(i + 1)
		}
	}
	return r, nil
}

// Owner returns the node of the range that holds key's first byte; see
// Table.
func (r *Ranges) Owner(key string) (string, error) {
	if key == "" {
		return "", ErrEmptyKey
	}
	var i uint16
	if r != nil {
		i = r.owner[key[0]]
	}
	if i == 0 {
		return "", fmt.Errorf("%w: no range holds %s, the first byte of key %q", ErrNoRoute, byteString(key[0]), key)
	}
	return r.entries[i-1].Node, nil
}

// Entries returns the table's ranges, sorted by From.
func (r *Ranges) Entries() []Range {
	if r == nil {
		return nil
	}
	return slices.Clone(r.entries)
}

// String renders the range as Elixir writes it: ?a..?m => node.
func (e Range) String() string {
	return fmt.Sprintf("%s..%s => %q", byteString(e.From), byteString(e.To), e.Node)
}

func byteString(b byte) string {
	if b > ' ' && b < 0x7f {
		return "?" + string(rune(b))
	}
	return fmt.Sprintf("%#02x", b)
}
