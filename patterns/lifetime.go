package patterns

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
)

// lifetime ties the goroutines a controller runs off its mailbox (stream
// producers, interactions) to the controller process: their context ends
// when the process exits, however it exits (a kill runs no Terminate, so a
// goroutine waits for the exit). The cause is an *actor.ExitError naming
// the controller and its reason.
type lifetime struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// start begins p's lifetime; call it from Init.
func (l *lifetime) start(p *actor.Process) {
	l.ctx, l.cancel = context.WithCancelCause(context.Background())
	self, done := p.Self(), p.Done()
	go func() {
		select {
		case <-done:
			l.cancel(&actor.ExitError{PID: self, Reason: p.ExitReason()})
		case <-l.ctx.Done(): // end ran
		}
	}()
}

// end closes the lifetime from Terminate, with p's exit reason.
func (l *lifetime) end(p *actor.Process, reason error) {
	if l.cancel != nil {
		l.cancel(&actor.ExitError{PID: p.Self(), Reason: reason})
	}
}

// context returns the lifetime's context, or (for a controller used
// without Init, as in a unit test) the background.
func (l *lifetime) context() context.Context {
	if l.ctx == nil {
		return context.Background()
	}
	return l.ctx
}
