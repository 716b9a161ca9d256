package main

import (
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/switchboard-go/switchboard/internal/linkproxy"
	"github.com/switchboard-go/switchboard/internal/soak/fault"
	"github.com/switchboard-go/switchboard/internal/soak/history"
)

// inject runs the schedule, one fault at a time at its offset from the
// start, recording each from its injection to its repair (a killed node
// restarted and ready, a paused one continued, Consul up again). It
// returns the faults of kinds not implemented, by kind.
func (r *run) inject(l *load, faults []fault.Fault) map[string]int {
	skipped := map[string]int{}
	for _, f := range faults {
		if w := time.Until(r.start.Add(f.At)); w > 0 {
			time.Sleep(w)
		}
		rec := history.Record{Type: history.TypeFault, ID: fmt.Sprintf("fault-%v", f.At), Nodes: f.Nodes, Invoke: time.Now()}
		switch f.Kind {
		case fault.Kill:
			rec.Kind = history.FaultKill
			i := slices.Index(r.names, f.Nodes[0])
			r.mu.Lock()
			p := r.procs[i]
			r.mu.Unlock()
			if i == holder[exBacklog] {
				rec.Backlog = l.depth(exBacklog)
			}
			p.Kill()
			time.Sleep(f.Hold)
			if err := r.startNode(i); err != nil {
				fmt.Println("soak: restart after kill:", err)
			}
		case fault.Pause:
			rec.Kind = history.FaultPause
			i := slices.Index(r.names, f.Nodes[0])
			r.mu.Lock()
			p := r.procs[i]
			r.mu.Unlock()
			p.Signal(syscall.SIGSTOP)
			time.Sleep(f.Hold)
			p.Signal(syscall.SIGCONT)
		case fault.Consul:
			rec.Kind = fault.Consul
			rec.Nodes = nil
			r.consul.p.Kill()
			time.Sleep(f.Hold)
			if err := r.consul.start(); err != nil {
				fmt.Println("soak: restart Consul:", err)
			}
		case fault.Slow:
			rec.Kind = fault.Slow
			i := slices.Index(r.names, f.Nodes[0])
			r.mu.Lock()
			p := r.procs[i]
			r.mu.Unlock()
			_ = p.Cmd.Process.Signal(syscall.SIGUSR1)
			time.Sleep(f.Hold)
			_ = p.Cmd.Process.Signal(syscall.SIGUSR2)
		case fault.Skew:
			// The driver's clients are the ones with a skewed clock: their
			// deadlines come Skew early (the schedule's node is not used).
			rec.Kind, rec.Nodes = fault.Skew, []string{driverName}
			l.skew.Store(int64(f.Skew))
			time.Sleep(f.Hold)
			l.skew.Store(0)
		case fault.Cut:
			// Both directions of the link between the two nodes, through
			// its proxies: dropped (connections closed, new ones refused)
			// or stalled (held silent: the nodes tell it by their ticks).
			rec.Kind = fault.Cut
			mode := linkproxy.Drop
			if f.Stall {
				mode = linkproxy.Stall
			}
			if err := r.mesh.Cut(f.Nodes[0], f.Nodes[1], mode); err != nil {
				fmt.Println("soak: cut:", err)
			}
			time.Sleep(f.Hold)
			if err := r.mesh.Heal(f.Nodes[0], f.Nodes[1]); err != nil {
				fmt.Println("soak: heal:", err)
			}
		default:
			skipped[f.Kind]++
			continue
		}
		rec.Complete = time.Now()
		r.h.add(rec)
		extra := ""
		if rec.Backlog > 0 {
			extra = fmt.Sprintf(", killed with %d tasks in %s", rec.Backlog, exBacklog)
		}
		fmt.Printf("soak: %s (%v%s)\n", f, rec.Complete.Sub(rec.Invoke).Round(time.Millisecond), extra)
	}
	return skipped
}
