package consultest

import "syscall"

// procAttr makes the agent die with the test process, even on SIGKILL.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
