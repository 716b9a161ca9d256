package fanout

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Every publish reaches every subscription, and crosses the network once
// per subscriber node: the hub sends one frame to each proxy, the proxies
// none.
func TestFanOutOneFramePerNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := Config{Nodes: 3, Procs: 20, Tags: 5, Wait: 30 * time.Second}
	c, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		p, err := c.Publish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Frames != uint64(cfg.Nodes) || p.FramesIn != uint64(cfg.Nodes) {
			t.Fatalf("publish sent %d frames and received %d, want %d each", p.Frames, p.FramesIn, cfg.Nodes)
		}
		if p.Took <= 0 || p.Took > cfg.Wait {
			t.Fatalf("took %v", p.Took)
		}
	}
	for i, cnt := range c.counts {
		if got, want := cnt.got.Load(), int64(3*cfg.Procs*cfg.Tags); got != want {
			t.Errorf("node %d: %d deliveries, want %d", i, got, want)
		}
	}
}

func TestFanOutRefusesAnEmptyShape(t *testing.T) {
	if _, err := Start(context.Background(), Config{Nodes: 1, Procs: 0, Tags: 1}); err == nil {
		t.Fatal("no error")
	}
}
