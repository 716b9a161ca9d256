package osproc

import (
	"context"
	"errors"
	"strings"
)

// ErrExited is returned by Await when the child ends before it is ready.
var ErrExited = errors.New("osproc: the process exited before it was ready")

// Ready returns an OnLine function and the channel it hands the first line
// starting with prefix to (a child's "READY ..." line, say); later lines
// are ignored.
func Ready(prefix string) (onLine func(string), ready <-chan string) {
	ch := make(chan string, 1)
	seen := false
	return func(line string) {
		if !seen && strings.HasPrefix(line, prefix) {
			seen = true
			ch <- line
		}
	}, ch
}

// Await waits for the line on ready (from Ready), the child's end
// (ErrExited) or ctx's.
func (p *Proc) Await(ctx context.Context, ready <-chan string) (string, error) {
	select {
	case line := <-ready:
		return line, nil
	case <-p.exited:
		select { // the line comes before the end: take it if both are there
		case line := <-ready:
			return line, nil
		default:
			return "", ErrExited
		}
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
