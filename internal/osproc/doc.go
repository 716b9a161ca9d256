// Package osproc starts the child OS processes of Switchboard's own tools:
// the nodes of the demo and of the soak, the soak's Consul agent, and the
// children of the multi-process tests (internal/childtest).
//
// A child dies with its parent, however the parent ends (Pdeathsig, on
// Linux), and may run in a process group of its own, so that a signal
// reaches all of it and a terminal's Ctrl-C reaches only the parent, which
// stops its children in order. A child is stopped cleanly by closing its
// stdin; its stdout is read line by line, every line handed on before
// Exited is closed, so that the last lines a child wrote before it ended
// are never lost.
package osproc
