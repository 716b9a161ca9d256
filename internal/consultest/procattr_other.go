//go:build !linux

package consultest

import "syscall"

// procAttr: only Linux can tie the agent's life to the test's; elsewhere
// Cleanup stops it.
func procAttr() *syscall.SysProcAttr { return nil }
