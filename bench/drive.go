package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A target is one system ready to be called, in the client's process.
type target interface {
	// newCaller opens what one caller needs (a RabbitMQ channel, say).
	newCaller() (caller, error)
	close()
}

// A caller makes one ping/pong cycle at a time.
type caller interface {
	// call sends ping and returns once pong is back.
	call(ctx context.Context) error
	close()
}

// Outcome is what a client process reports for one shape.
type Outcome struct {
	Shape   Shape         `json:"shape"`
	Done    int           `json:"done"`    // cycles completed
	Elapsed time.Duration `json:"elapsed"` // from the first ping to the last pong
	Latency Latency       `json:"latency"`
	Err     string        `json:"err,omitempty"` // the shape failed: the first error
	// A durable shape: Done is the tasks confirmed, Elapsed until the last
	// confirm, Latency each confirm's; Completed the tasks acked by the
	// workers, CompletedIn until the last ack.
	Completed   int           `json:"completed,omitempty"`
	CompletedIn time.Duration `json:"completed_in,omitempty"`
}

// CompletedRate is acked tasks per second (durable shapes).
func (o Outcome) CompletedRate() float64 {
	if o.CompletedIn <= 0 {
		return 0
	}
	return float64(o.Completed) / o.CompletedIn.Seconds()
}

// Rate is cycles per second.
func (o Outcome) Rate() float64 {
	if o.Elapsed <= 0 {
		return 0
	}
	return float64(o.Done) / o.Elapsed.Seconds()
}

// drive runs one shape against t: s.Callers goroutines, each with its own
// caller, each cycle timed. The first error ends the shape, which is then
// reported as failed with that error and the cycles done until then.
func drive(ctx context.Context, t target, s Shape, timeout time.Duration) Outcome {
	out := Outcome{Shape: s}
	if s.Callers < 1 || s.Cycles < s.Callers {
		out.Err = fmt.Sprintf("bad shape: %d cycles over %d callers", s.Cycles, s.Callers)
		return out
	}
	callers, err := openAll(s.Callers, t.newCaller)
	defer closeAll(callers)
	if err != nil {
		out.Err = "opening a caller: " + err.Error()
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	lat := make([][]time.Duration, s.Callers)
	first := &firstError{cancel: cancel}
	fail := first.set
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range callers {
		n := s.share(i)
		l := make([]time.Duration, 0, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { lat[i] = l }()
			for range n {
				t0 := time.Now()
				if err := c.call(ctx); err != nil {
					fail(err) // the first error is kept; the others follow from the cancel
					return
				}
				l = append(l, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	out.Elapsed = time.Since(start)
	all := make([]time.Duration, 0, s.Cycles)
	for _, l := range lat {
		all = append(all, l...)
	}
	out.Done = len(all)
	out.Latency = percentiles(all)
	out.Err = first.report(ctx, timeout, fmt.Sprintf("%d of %d cycles", out.Done, s.Cycles))
	return out
}

// openAll opens n callers (or producers) with open; on an error it returns
// those it opened, for closeAll.
func openAll[T interface{ close() }](n int, open func() (T, error)) ([]T, error) {
	out := make([]T, 0, n)
	for range n {
		c, err := open()
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

func closeAll[T interface{ close() }](cs []T) {
	for _, c := range cs {
		c.close()
	}
}

// firstError keeps the first error of a shape's goroutines and cancels
// the others' context: their errors follow from the cancel.
type firstError struct {
	mu     sync.Mutex
	err    error
	cancel context.CancelFunc
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	f.cancel()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// report is the shape's error, "" if none: past its time limit (ctx's)
// it says how far it got (done).
func (f *firstError) report(ctx context.Context, timeout time.Duration, done string) string {
	err := f.get()
	switch {
	case err == nil:
		return ""
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("not done after %v (%s): %v", timeout, done, err)
	}
	return err.Error()
}
