package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/switchboard-go/switchboard/internal/fanout"
)

// FanOutConfig is the fan-out shape: Publishes publishes, one after the
// other, to Nodes × Procs × Tags subscriptions (internal/fanout).
type FanOutConfig struct {
	Nodes     int `json:"nodes"`
	Procs     int `json:"procs"`
	Tags      int `json:"tags"`
	Publishes int `json:"publishes"` // 0: not measured
}

// SeedFanOut is the shape: one publish to 1,000,000 subscriptions
// on 10 nodes, 1,000 processes per node with 100 tags each.
func SeedFanOut() FanOutConfig { return FanOutConfig{Nodes: 10, Procs: 1000, Tags: 100, Publishes: 5} }

// FanOut is what the fan-out role measured, in a fresh OS process holding
// the hub and the subscriber nodes (loopback TCP between them).
type FanOut struct {
	Config    FanOutConfig     `json:"config"`
	Setup     time.Duration    `json:"setup"` // start the nodes, spawn, subscribe
	Publishes []fanout.Publish `json:"publishes"`
	HeapBytes float64          `json:"heap_bytes"` // live heap with every subscription in place
}

// Median is the median publish's time until every subscriber had it.
func (f FanOut) Median() time.Duration { return fanout.Median(f.Publishes) }

// perDelivery is the mean of v over every delivery of every publish.
func (f FanOut) perDelivery(v func(fanout.Publish) float64) float64 {
	sum := 0.0
	for _, p := range f.Publishes {
		sum += v(p)
	}
	return sum / float64(len(f.Publishes)*f.Config.Nodes*f.Config.Procs*f.Config.Tags)
}

// Frames is every publish's frame count if they are all the same, else -1.
func (f FanOut) Frames() int {
	n := -1
	for i, p := range f.Publishes {
		if i == 0 {
			n = int(p.Frames)
		} else if int(p.Frames) != n {
			return -1
		}
	}
	return n
}

const envFanOut = "SEEDBENCH_FANOUT" // fan-out role: its FanOutConfig, JSON

// runFanOut is the fan-out role: it builds the cluster, publishes, and
// reports a FanOut.
func runFanOut() (FanOut, error) {
	var cfg FanOutConfig
	if err := json.Unmarshal([]byte(os.Getenv(envFanOut)), &cfg); err != nil || cfg.Publishes < 1 {
		return FanOut{}, fmt.Errorf("%s=%q: want a fan-out shape with publishes", envFanOut, os.Getenv(envFanOut))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := sampleMem()
	c, err := fanout.Start(ctx, fanout.Config{Nodes: cfg.Nodes, Procs: cfg.Procs, Tags: cfg.Tags})
	if err != nil {
		return FanOut{}, err
	}
	defer c.Close()
	f := FanOut{Config: cfg, Setup: c.Setup}
	f.HeapBytes = float64(sampleMem().heap) - float64(before.heap)
	for range cfg.Publishes {
		p, err := c.Publish(ctx)
		if err != nil {
			return FanOut{}, err
		}
		f.Publishes = append(f.Publishes, p)
	}
	return f, nil
}

// measureFanOut runs the fan-out role in a fresh process.
func (h *harness) measureFanOut(cfg FanOutConfig) (FanOut, error) {
	b, _ := json.Marshal(cfg)
	c, detail, err := h.startRole(roleFanOut, map[string]string{envFanOut: string(b)}, 6*time.Minute)
	if err != nil {
		return FanOut{}, err
	}
	defer c.stop()
	var f FanOut
	if err := jsonUnmarshal(detail, &f); err != nil {
		return FanOut{}, fmt.Errorf("%s said %q", roleFanOut, detail)
	}
	return f, nil
}
