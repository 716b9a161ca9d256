package actor

// DirectCalls handles a call that reached a process from another node, on
// the connection's reader goroutine, before the process's mailbox: it
// returns true if it took the call (and saw to its answer, now or later
// through rt), false to let the call go to the mailbox as usual.
type DirectCalls func(msg any, rt ReplyTo) bool

// HandleDirect makes fn see the calls that reach p from other nodes before
// p's mailbox does; nil stops it. It is for routers, such as an exchange,
// that forward a call without waiting and without touching state of their
// process that is not safe for concurrent use: fn runs on the reader
// goroutine of each connection, concurrently with p's callbacks and with
// itself, and must not block. Taking a call there saves the hand-off to
// the process's goroutine; the calls it declines keep their order among
// themselves, not with the ones it takes.
func (p *Process) HandleDirect(fn DirectCalls) {
	if fn == nil {
		p.direct.Store(nil)
		return
	}
	p.direct.Store(&fn)
}
