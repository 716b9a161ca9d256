//go:build !linux

package childtest

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }
