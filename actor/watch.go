package actor

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Watch lets a plain goroutine monitor pid: the channel receives pid's Down
// when it exits (at once, with ErrNoProcess, if it is not alive; with
// ErrNodeDown if its node goes away) and is then closed. The monitor is in
// place when Watch returns. cancel stops watching and closes the channel.
func (n *Node) Watch(pid *PID) (downs <-chan Down, cancel func()) {
	w := &watcher{target: pid, ch: make(chan Down, 1)}
	wpid, err := n.Spawn(context.Background(), w)
	if err != nil { // the node is stopping
		w.deliver(Down{PID: pid, Reason: err})
		w.close()
		return w.ch, func() {}
	}
	return w.ch, func() { n.Exit(wpid, ErrKill) }
}

// watcher is the process behind Watch. Its channel is closed when it ends,
// however it ends (a killed process runs no Terminate, so a goroutine waits
// for its exit).
type watcher struct {
	BaseServer
	target *PID
	mu     sync.Mutex
	ch     chan Down
	closed bool
}

func (w *watcher) Init(p *Process) error {
	p.Monitor(w.target)
	done := p.Done()
	go func() {
		<-done
		w.close()
	}()
	return nil
}

func (w *watcher) HandleInfo(p *Process, msg any) {
	if d, ok := msg.(Down); ok {
		w.deliver(d)
		p.Stop(nil)
	}
}

func (w *watcher) deliver(d Down) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		select {
		case w.ch <- d:
		default:
		}
	}
}

func (w *watcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
}

// StopProcess stops pid with reason and waits until it has exited, as
// Erlang's gen_server:stop/3: unlike Exit, it ends the process whether it
// traps exits or not and whatever the reason, nil included (its Terminate
// runs with reason). It returns pid's exit reason's
// absence as nil, ErrNoProcess if pid was not alive, and ErrTimeout if ctx
// ends first (pid may still exit later).
func (n *Node) StopProcess(ctx context.Context, pid *PID, reason error) error {
	downs, cancel := n.Watch(pid)
	defer cancel()
	n.exitSignal(n.halt, pid, reason, false)
	select {
	case d, ok := <-downs:
		if ok && errors.Is(d.Reason, ErrNoProcess) {
			return ErrNoProcess
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
}
