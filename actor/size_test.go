package actor

import (
	"testing"
	"unsafe"
)

// A Process fits the 224 B size class: a field added in the wrong place
// costs every idle process the next class (240 B) or two.
func TestProcessSize(t *testing.T) {
	if got := unsafe.Sizeof(Process{}); got > 224 {
		t.Fatalf("a Process is %d B, more than the 224 B size class", got)
	}
}
