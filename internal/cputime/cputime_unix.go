//go:build unix

// Package cputime reads the CPU time this process has used, for the
// benchmarks that report CPU per operation: on a shared machine it repeats
// where operations per second of wall time do not.
package cputime

import (
	"syscall"
	"time"
)

// Self is the CPU time (user and system, every thread) this process has
// used.
func Self() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
