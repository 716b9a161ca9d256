package actor

import (
	"fmt"
	"runtime/metrics"
	"sync/atomic"
	"testing"

	"github.com/switchboard-go/switchboard/internal/cputime"
)

// BenchmarkBurst is a fan-out in the actor runtime alone: one process's
// handler sends a message to each of procs processes, every one of them
// idle, so that each send schedules a mailbox run (as an exchange's
// publish to local subscribers does). One op is one burst; it reports the
// process's CPU time and the goroutines started per delivery.
//
//	go test -run '^$' -bench Burst ./actor
func BenchmarkBurst(b *testing.B) {
	for _, procs := range []int{100, 10000} {
		b.Run(fmt.Sprintf("procs=%d", procs), func(b *testing.B) {
			n, err := Start(Config{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = n.Stop(ctxT(b)) })
			var handled atomic.Int64
			done := make(chan struct{}, 1)
			subs := make([]*PID, procs)
			for i := range subs {
				subs[i] = spawn(b, n, &fn{info: func(*Process, any) {
					if handled.Add(1) == int64(procs) {
						handled.Store(0)
						done <- struct{}{}
					}
				}})
			}
			burster := spawn(b, n, &fn{})
			send := func(p *Process) {
				for _, s := range subs {
					_ = p.Send(s, 1)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu, started := cputime.Self(), goroutinesCreated()
			for range b.N {
				if err := n.Cast(burster, send); err != nil {
					b.Fatal(err)
				}
				<-done
			}
			b.StopTimer()
			d := float64(b.N) * float64(procs)
			b.ReportMetric(float64(cputime.Self()-cpu)/d, "cpu-ns/delivery")
			b.ReportMetric(float64(goroutinesCreated()-started)/d, "goroutines/delivery")
		})
	}
}

// goroutinesCreated is how many goroutines this process has started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
