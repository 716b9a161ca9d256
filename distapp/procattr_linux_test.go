package distapp_test

import "syscall"

// childAttr makes a child die with the test process.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
