package main

import (
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// slowDelay is what a slow consumer spends on each task and event.
const slowDelay = 50 * time.Millisecond

// slow is the slow-consumer fault inside a node: SIGUSR1 slows its worker
// and subscriber down, SIGUSR2 ends it.
type slow struct {
	on   atomic.Bool
	sig  chan os.Signal
	done chan struct{}
}

func slowness() *slow {
	s := &slow{sig: make(chan os.Signal, 4), done: make(chan struct{})}
	signal.Notify(s.sig, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		defer close(s.done)
		for sig := range s.sig {
			s.on.Store(sig == syscall.SIGUSR1)
		}
	}()
	return s
}

func (s *slow) wait() {
	if s.on.Load() {
		time.Sleep(slowDelay) // the consumer's slow work
	}
}

func (s *slow) stop() {
	signal.Stop(s.sig)
	close(s.sig)
	<-s.done
}
