//go:build !linux

package cluster_test

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }
