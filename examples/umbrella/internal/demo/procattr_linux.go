package demo

import "syscall"

// procAttr puts a node in a process group of its own and kills it with
// the demo, however the demo ends.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
