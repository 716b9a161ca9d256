//go:build !unix

package transport

import "syscall"

// directWrite is not available here: every frame goes through the peer's
// writer goroutine.
type directWrite struct{}

func newDirectWrite(syscall.RawConn) *directWrite { return nil }

func (*directWrite) write([]byte) int { return 0 }
