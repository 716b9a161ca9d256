package tasks

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

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

func benchReplicated(b *testing.B, keyed bool, producers, window int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	g := startReplicaGroup(b, ctx, 3)
	n := g.nodes[0]
	pid := g.queue(b, ctx, 0)
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
	b.ReportMetric(float64(st.GetSyncs())/el, "entries/s")
	b.ReportMetric(float64(b.N)/float64(max(st.GetSyncs(), 1)), "tasks/entry")
}
