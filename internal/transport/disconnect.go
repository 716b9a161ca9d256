package transport

// Disconnect closes the connections to and from the node at addr, as
// Erlang's erlang:disconnect_node, and reports PeerDown(addr,
// ErrDisconnected) once, on the caller's goroutine, before it returns.
// Frames queued for addr are dropped and frames still arriving from it are
// not delivered; the next Send to addr dials anew. It is for a node that
// membership declared dead while its connection still looks alive.
func (t *Transport) Disconnect(addr string) {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return
	}
	if p, ok := t.peers[addr]; ok {
		delete(t.peers, addr)
		p.close()
	}
	delete(t.from, addr)
	for c, in := range t.in {
		if in.from == addr {
			in.cut.Store(true)
			_ = c.Close()
		}
	}
	t.mu.Unlock()
	t.log.Info("disconnected", "peer", addr)
	t.peerDown(addr, ErrDisconnected)
}
