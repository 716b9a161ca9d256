package actor

import (
	"context"
	"testing"
	"time"
)

// BenchmarkCallContextEach is Call with a context of its own per call
// (a service's request making one call): no context is seen often enough
// to be watched, the caller selects on the reply and ctx.Done(). With
// BenchmarkCallWithDeadline (one context for every call: watched), it
// shows what the context watches cost and save.
func BenchmarkCallContextEach(b *testing.B) {
	n, err := Start(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Stop(context.Background())
	pid, err := n.Spawn(context.Background(), &fn{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		if _, err := n.Call(ctx, pid, 1); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}
