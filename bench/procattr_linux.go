package main

import (
	"os"
	"syscall"
)

// procAttr makes a child die with the harness, even when the harness is
// killed with SIGKILL: no process is left behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// dieWithParent makes the harness die when the process that started it
// (bench/compare.sh) is gone, even by SIGKILL, which no shell trap sees;
// its own children then die with it. SIGTERM, so that it can say why.
func dieWithParent() {
	parent := os.Getppid()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
	if os.Getppid() != parent { // the parent went before the call took effect
		os.Exit(1)
	}
}
