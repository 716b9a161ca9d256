package browsertest

import "syscall"

// procAttr puts an umbrella node in a process group of its own and kills
// it with the test, however the test ends.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
