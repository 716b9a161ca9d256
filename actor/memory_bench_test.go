package actor

import (
	"context"
	"runtime"
	"testing"

	pa "github.com/asynkron/protoactor-go/actor"
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

// BenchmarkIdleMailbox reports the live heap of one idle protoactor
// mailbox of each kind (B/mailbox), as a process holds it (registered,
// suspended, empty): the figures behind newMailbox's choice.
//
//	go test -run '^$' -bench IdleMailbox -benchtime 20000x ./actor
func BenchmarkIdleMailbox(b *testing.B) {
	for _, kind := range []struct {
		name string
		make pa.MailboxProducer
	}{{"unbounded", pa.Unbounded()}, {"lockfree", pa.UnboundedLockfree()}} {
		b.Run(kind.name, func(b *testing.B) {
			d := newDispatcher()
			defer func() { d.close(); _ = d.wait(context.Background()) }()
			var inv invoker
			kept := make([]pa.Mailbox, b.N)
			before := heapNow()
			b.ResetTimer()
			for i := range b.N {
				mb := kind.make()
				mb.RegisterHandlers(&inv, d)
				mb.PostSystemMessage(suspendMailbox)
				kept[i] = mb
			}
			b.StopTimer()
			b.ReportMetric((float64(heapNow())-float64(before))/float64(b.N), "B/mailbox")
			runtime.KeepAlive(kept)
		})
	}
}

// BenchmarkIdleNode starts b.N local-only nodes and reports the live heap
// each holds (B/node): what many nodes in one process (a test's cluster)
// cost before any process. A protoactor ActorSystem per node, before the
// processes drove their mailboxes alone, was 2.9 MB of it.
//
//	go test -run '^$' -bench IdleNode -benchtime 200x ./actor
func BenchmarkIdleNode(b *testing.B) {
	nodes := make([]*Node, 0, b.N)
	defer func() {
		for _, n := range nodes {
			_ = n.Stop(context.Background())
		}
	}()
	before := heapNow()
	b.ResetTimer()
	for range b.N {
		n, err := Start(Config{})
		if err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	b.StopTimer()
	b.ReportMetric((float64(heapNow())-float64(before))/float64(b.N), "B/node")
}
