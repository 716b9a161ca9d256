package cputime

import (
	"runtime"
	"testing"
	"time"
)

// CPU time grows with work done, and not with time slept.
func TestSelfCountsWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("not measured here")
	}
	before := Self()
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if used := Self() - before; used <= 0 {
		t.Fatalf("%d loops used %v of CPU", x, used)
	}
}
