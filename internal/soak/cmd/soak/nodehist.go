package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/internal/soak/history"
)

// hist is a node's history file, flushed after every record: a kill -9
// loses nothing that was recorded.
type hist struct {
	f *os.File
	w *history.Writer
}

func openHist(path string) (*hist, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &hist{f: f, w: history.NewWriter(f)}, nil
}

func (h *hist) add(r history.Record) {
	h.w.Add(r)
	_ = h.w.Flush()
}

func (h *hist) close() error {
	err := h.w.Flush()
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// report records the node's membership view and resources every second
// (sample) until stop closes.
func report(h *hist, name string, cl *cluster.Cluster, stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		sample(h, name, cl)
	}
}

// sample records the node's membership view (none without a cluster) and
// its goroutines and heap, at one time.
func sample(h *hist, name string, cl *cluster.Cluster) {
	var names []string
	if cl != nil {
		for _, m := range cl.Members() {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	now := time.Now()
	h.add(history.Record{Type: history.TypeMembership, Node: name, Members: names, Invoke: now})
	h.add(history.Record{Type: history.TypeSample, Node: name, Gor: runtime.NumGoroutine(), Heap: ms.HeapAlloc, Invoke: now})
}

// watchStalls records a stall of node (history.FaultStall): its ticker
// coming more than stallBound late, the machine not running the process.
// It returns when stop closes.
func watchStalls(h *hist, node string, stop <-chan struct{}) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			now := time.Now()
			if now.Sub(last) > watchEvery+stallBound {
				h.add(history.Record{Type: history.TypeFault, ID: fmt.Sprintf("stall-%s-%d", node, now.UnixNano()), Kind: history.FaultStall,
					Nodes: []string{node}, Invoke: last.Add(watchEvery), Complete: now})
			}
			last = now
		}
	}
}
