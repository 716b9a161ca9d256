package actor

import (
	"context"
	"runtime"
	"testing"
)

// heapNow is the live heap after two full collections (the second frees
// what the first's finalizers and pool sweeps let go).
func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkIdleActor spawns b.N processes with the default callbacks and
// reports the live heap each holds (B/actor), as the bench module's memory
// section does in a fresh OS process (issue 19's target: 1,024 B).
//
//	go test -run '^$' -bench IdleActor -benchtime 20000x ./actor
func BenchmarkIdleActor(b *testing.B) {
	n, err := Start(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Stop(context.Background())
	ctx := context.Background()
	before := heapNow()
	b.ResetTimer()
	for range b.N {
		if _, err := n.Spawn(ctx, &BaseServer{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((float64(heapNow())-float64(before))/float64(b.N), "B/actor")
}
