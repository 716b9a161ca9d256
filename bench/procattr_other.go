//go:build !linux

package main

import "syscall"

// procAttr: only Linux ties a child's life to its parent's; elsewhere the
// harness stops its children itself (and /proc, for CPU and memory, is
// Linux's anyway).
func procAttr() *syscall.SysProcAttr { return nil }

// dieWithParent: only Linux can tie the harness's life to its parent's.
func dieWithParent() {}
