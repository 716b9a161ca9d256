package main

import (
	"fmt"
	"io"
	"os"
	"testing"
	"time"
)

// BenchmarkConverge is issue 19's convergence figure as a go test
// benchmark: N nodes, each an OS process (this test binary in the
// converge-node role), join one embedded cluster through node 0 and
// converge (every node sees every member and every name). Each iteration
// is a fresh cluster; reported per iteration: the time to converge
// (converge-ms), the CPU each node used meanwhile (join-cpu-ms/node), its
// resident memory (rss-MiB/node) and the handshakes refused (refused).
// The target is 100 nodes within 5 s.
//
//	cd bench && go test -run '^$' -bench Converge/nodes=100 -benchtime 1x
func BenchmarkConverge(b *testing.B) {
	for _, n := range []int{10, 30, 100} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			var converged, cpu time.Duration
			var rss, refused uint64
			for range b.N {
				rep := runConverge(ConvergeConfig{Sizes: []int{n}, Provider: "embedded", Seeds: 1,
					Timeout: 60 * time.Second, Idle: 100 * time.Millisecond, Exe: os.Args[0], Progress: io.Discard})
				r := rep.Runs[0]
				if r.Err != "" || r.Converged <= 0 {
					b.Fatalf("%d nodes did not converge: %+v", n, r)
				}
				converged += r.Converged
				cpu += r.JoinCPU
				rss += r.RSSMean
				refused += r.Refused
			}
			per := float64(b.N)
			b.ReportMetric(float64(converged.Milliseconds())/per, "converge-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/per, "join-cpu-ms/node")
			b.ReportMetric(float64(rss)/(1<<20)/per, "rss-MiB/node")
			b.ReportMetric(float64(refused)/per, "refused")
		})
	}
}
