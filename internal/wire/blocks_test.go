package wire

import (
	"testing"
	"unsafe"
)

// TestBlockSizes keeps the decoder's blocks at the sizes decode.go says:
// each fills a size class of the allocator, so a slab byte more or a
// field of the generated structs more would waste the rest of the next
// class. Regenerated messages may change them; set the slabs again then.
func TestBlockSizes(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the sizes are a 64-bit platform's")
	}
	for _, b := range []struct {
		name      string
		got, want uintptr
	}{
		{"callBody", unsafe.Sizeof(callBody{}), 512},
		{"replyBody", unsafe.Sizeof(replyBody{}), 384},
		{"castBody", unsafe.Sizeof(castBody{}), 352},
		{"infoBody", unsafe.Sizeof(infoBody{}), 352},
		{"envelopeBody", unsafe.Sizeof(envelopeBody{}), 384},
	} {
		if b.got != b.want {
			t.Errorf("%s is %d bytes, want %d", b.name, b.got, b.want)
		}
	}
}
