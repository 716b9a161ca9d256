package actor

// DirectCalls handles a call before the process's mailbox: one that
// reached the process from another node, on the connection's reader
// goroutine, or one that a caller of the process's own node forwarded to
// it (Node.Forward with the ReplyTo of its Pending or ExpectReply), on the
// caller's goroutine. It returns true if it took the call (and saw to its
// answer, now or later through rt), false to let the call go to the
// mailbox as usual.
type DirectCalls func(msg any, rt ReplyTo) bool

// HandleDirect makes fn see the calls that reach p from other nodes, and
// those its own node's callers forward to it, before p's mailbox does;
// nil stops it. It is for routers, such as an exchange, that forward a
// call without waiting and without touching state of their process that
// is not safe for concurrent use: fn runs on the reader goroutine of each
// connection and on the goroutines of local callers, concurrently with
// p's callbacks and with itself, and must not block. Taking a call there
// saves the hand-off to the process's goroutine; the calls it declines
// keep their order among themselves, not with the ones it takes. The rt
// fn gets is not a caller's own: a call fn forwards with it to a process
// of this node goes to that process's mailbox, never to another fn, so
// that routers that forward to each other cannot recurse.
func (p *Process) HandleDirect(fn DirectCalls) {
	if fn == nil {
		p.direct.Store(nil)
		return
	}
	p.direct.Store(&fn)
}
