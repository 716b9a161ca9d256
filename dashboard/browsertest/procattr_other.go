//go:build !linux

package browsertest

import "syscall"

// procAttr puts an umbrella node in a process group of its own.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
