package childtest

import "syscall"

// procAttr makes a child die with the test process.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
