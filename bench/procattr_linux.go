package main

import "syscall"

// procAttr makes a child die with the harness, even when the harness is
// killed with SIGKILL: no process is left behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
