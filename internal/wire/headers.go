package wire

import (
	"maps"
	"slices"
	"unicode/utf8"

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
	for k, v := range h {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return 0, false
		}
		n += sizeLen(num, headerEntrySize(k, v))
	}
	return n, true
}

func headerEntrySize(k, v string) int {
	return sizeLen(1, len(k)) + sizeLen(2, len(v)) // both written, empty or not
}

func appendHeaders(b []byte, num protowire.Number, h map[string]string) []byte {
	if len(h) == 0 {
		return b
	}
	if len(h) == 1 {
		for k, v := range h {
			return appendHeader(b, num, k, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(h)) {
		b = appendHeader(b, num, k, h[k])
	}
	return b
}

func appendHeader(b []byte, num protowire.Number, k, v string) []byte {
	b = appendLen(b, num, headerEntrySize(k, v))
	b = appendLen(b, 1, len(k)) // key and value, empty or not
	b = append(b, k...)
	b = appendLen(b, 2, len(v))
	return append(b, v...)
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
	ok := each(f.b, func(f field) (ok bool) {
		if f.typ != protowire.BytesType || f.num < 1 || f.num > 2 || seen&(1<<f.num) != 0 {
			return false
		}
		seen |= 1 << f.num
		if f.num == 1 {
			k, ok = d.str(f)
		} else {
			v, ok = d.str(f)
		}
		return ok
	})
	if !ok {
		return false
	}
	if *h == nil {
		*h = make(map[string]string, 1)
	}
	(*h)[k] = v
	return true
}
