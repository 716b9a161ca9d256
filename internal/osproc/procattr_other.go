//go:build !linux

package osproc

import "syscall"

// procAttr puts the child in a group of its own if asked; only Linux kills
// a child with its parent.
func procAttr(group bool) *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: group} }
