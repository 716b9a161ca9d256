package osproc

import "syscall"

// procAttr kills the child with its parent, however the parent ends, and
// puts it in a group of its own if asked.
func procAttr(group bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: group, Pdeathsig: syscall.SIGKILL}
}
