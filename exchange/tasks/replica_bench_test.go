package tasks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// Confirmed replicated tasks per second: a queue on the leader of a
// three-member group (two standbys, real TCP, bbolt), producers keeping
// up to 256 submissions in flight each (SubmitAsync); each confirm means
// "stored by a majority". entries/s and tasks/entry show the group commit
// (one Raft entry per batch of the queue's records).
//
//	go test -run '^$' -bench ReplicatedTasks -benchtime 100000x ./exchange/tasks
func BenchmarkReplicatedTasks(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		b.Run(fmt.Sprintf("keyed=%v/producers=4/window=256", keyed), func(b *testing.B) {
			benchReplicated(b, keyed, 4, 256)
		})
	}
}

// Confirmed durable tasks per second in one node (Spec.Dir: the segment
// log, group commit), the figure bench/'s "durable, one node" shape
// compares with RabbitMQ and NATS (make bench-compare); syncs/s and
// tasks/sync show the group commit.
//
//	go test -run '^$' -bench DurableTasks -benchtime 100000x ./exchange/tasks
func BenchmarkDurableTasks(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		b.Run(fmt.Sprintf("keyed=%v/producers=4/window=256", keyed), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			n, err := actor.Start(actor.Config{Name: "queue@localhost", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = n.Stop(context.Background()) })
			pid, err := n.Spawn(ctx, newTasksServer(Spec{Name: "jobs", Dir: b.TempDir(), MaxQueue: Unlimited}), actor.WithName(exchange.RegisteredName("jobs")))
			if err != nil {
				b.Fatal(err)
			}
			benchConfirmed(b, ctx, n, pid, keyed, 4, 256, "syncs/s", "tasks/sync")
		})
	}
}

func benchReplicated(b *testing.B, keyed bool, producers, window int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	g := startReplicaGroup(b, ctx, 3)
	benchConfirmed(b, ctx, g.nodes[0], g.queue(b, ctx, 0), keyed, producers, window, "entries/s", "tasks/entry")
}

// benchConfirmed submits b.N tasks to the queue pid on n from producers
// keeping window submissions in flight each, and reports confirmed
// tasks/s and the queue's syncs (fsyncs, or Raft entries) as perSync/s
// and tasks per sync.
func benchConfirmed(b *testing.B, ctx context.Context, n *actor.Node, pid *actor.PID, keyed bool, producers, window int, perSec, perSync string) {
	ex := exchange.Named("jobs")
	msg := wrapperspb.String(string(make([]byte, 128)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N / producers
	for i := range producers {
		count := per
		if i == 0 {
			count += b.N % producers
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			inflight := make([]*Confirm, 0, window)
			for j := range count {
				sub := Submission{Msg: msg}
				if keyed {
					sub.Key = fmt.Sprintf("p%d-%d", i, j)
				}
				c, err := SubmitAsync(ctx, n, ex, pid, sub, 0)
				if err != nil {
					b.Error(err)
					return
				}
				if inflight = append(inflight, c); len(inflight) == window {
					if err := inflight[0].Wait(); err != nil {
						b.Error(err)
						return
					}
					inflight = append(inflight[:0], inflight[1:]...)
				}
			}
			for _, c := range inflight {
				if err := c.Wait(); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	b.StopTimer()
	st := inspectQueue(b, ctx, n, pid)
	b.ReportMetric(float64(b.N)/el, "tasks/s")
	b.ReportMetric(float64(st.GetSyncs())/el, perSec)
	b.ReportMetric(float64(b.N)/float64(max(st.GetSyncs(), 1)), perSync)
}
