package wire

import (
	"maps"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// A map<string, string> field is a repeated entry message per key, with
// the key as field 1 and the value as field 2, both written even when
// empty (as proto writes map entries). The hand codec writes entries in
// key order, as proto's deterministic marshaling does.

// sizeHeaders is the length of h as map field num, and false if a key or
// a value is not valid UTF-8 (proto refuses those).
func sizeHeaders(num protowire.Number, h map[string]string) (int, bool) {
	n := 0
	var hi uint64
	for k, v := range h {
		hi = orBytes(orBytes(hi, k), v)
		n += sizeLen(num, headerEntrySize(k, v))
	}
	if hi&notASCII != 0 {
		for k, v := range h {
			if !validStrings(k, v) {
				return 0, false
			}
		}
	}
	return n, true
}

func headerEntrySize(k, v string) int {
	return sizeLen(1, len(k)) + sizeLen(2, len(v)) // both written, empty or not
}

// putHeaders writes h backwards as map field num, its entries in key
// order.
func putHeaders(b []byte, i int, num protowire.Number, h map[string]string) int {
	if len(h) == 0 {
		return i
	}
	if len(h) == 1 {
		for k, v := range h {
			return putHeader(b, i, num, k, v)
		}
	}
	keys := slices.Sorted(maps.Keys(h))
	for j := len(keys) - 1; j >= 0; j-- {
		i = putHeader(b, i, num, keys[j], h[keys[j]])
	}
	return i
}

func putHeader(b []byte, i int, num protowire.Number, k, v string) int {
	end := i
	i -= len(v) // key and value, empty or not
	copy(b[i:], v)
	i = putLen(b, i, 2, len(v))
	i -= len(k)
	copy(b[i:], k)
	i = putLen(b, i, 1, len(k))
	return putLen(b, i, num, end-i)
}

// header decodes one map entry into *h, and false for anything but an
// entry of a key and a value of valid UTF-8, each at most once: the rest
// (fields out of order or repeated, unknown or of another type) is left
// to proto.
func (d *decoder) header(f field, h *map[string]string) bool {
	if f.typ != protowire.BytesType {
		return false
	}
	var k, v string
	var seen uint32
	for b := f.b; len(b) > 0; {
		f, rest, ok := next(b)
		if !ok || f.typ != protowire.BytesType || f.num < 1 || f.num > 2 || seen&(1<<f.num) != 0 {
			return false
		}
		b = rest
		seen |= 1 << f.num
		if f.num == 1 {
			k, ok = d.str(f)
		} else {
			v, ok = d.str(f)
		}
		if !ok {
			return false
		}
	}
	if *h == nil {
		*h = make(map[string]string, 1)
	}
	(*h)[k] = v
	return true
}
