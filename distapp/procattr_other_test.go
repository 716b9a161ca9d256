//go:build !linux

package distapp_test

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }
