package wire

import (
	"encoding/binary"
	"unicode/utf8"
	"unsafe"
)

// Proto3 strings must be valid UTF-8, encoding and decoding. Nearly every
// string of a frame is ASCII (addresses, process ids, type URLs, exchange
// names), so the codecs OR the bytes of all the strings of a message
// together, eight at a time, and check each string on its own with
// utf8.ValidString only when a byte of the sum has its high bit set:
// one test per message instead of a validation per string.

// notASCII has the high bit of each byte of a word: set in an OR of bytes
// when one of them is not ASCII.
const notASCII = 0x8080808080808080

// orBytes ORs the bytes of s into acc.
func orBytes(acc uint64, s string) uint64 {
	p := unsafe.Slice(unsafe.StringData(s), len(s))
	for len(p) >= 8 {
		acc |= binary.LittleEndian.Uint64(p)
		p = p[8:]
	}
	if len(p) >= 4 {
		acc |= uint64(binary.LittleEndian.Uint32(p)) | uint64(binary.LittleEndian.Uint32(p[len(p)-4:]))
		return acc
	}
	for _, c := range p {
		acc |= uint64(c)
	}
	return acc
}

// validStrings reports whether every string of ss is valid UTF-8: the
// slow check, for messages with a byte that is not ASCII.
func validStrings(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
