package actor

import "sync"

// callMsgs holds the callMsgs that processes have handled: a call to a
// local process (an exchange forwarding to its controller, say) takes one
// instead of allocating it. A callMsg goes back only once dispatch or
// drain is done with it and nothing refers to it (a deferred reply keeps
// a copy of its replyTo); one whose handler panicked, or that no mailbox
// took, is left to the collector.
var callMsgs = sync.Pool{New: func() any { return new(callMsg) }}

func newCallMsg(from replyTo, msg any) *callMsg {
	c := callMsgs.Get().(*callMsg)
	c.from, c.msg = from, msg
	return c
}

func (c *callMsg) free() {
	*c = callMsg{}
	callMsgs.Put(c)
}
