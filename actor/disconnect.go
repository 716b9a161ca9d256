package actor

import (
	"errors"

	"github.com/switchboard-go/switchboard/internal/transport"
)

// Disconnect closes the connections to and from the node at address, as
// Erlang's erlang:disconnect_node: links to its processes break and
// monitors of them fire with ErrNodeDown, and calls waiting on it fail with
// ErrNodeDown, before Disconnect returns. The next message to that node
// dials it anew. Cluster membership calls it for a node declared dead while
// its connection still looks alive. Without a transport, or for the node's
// own address, it does nothing.
func (n *Node) Disconnect(address string) {
	if n.tr == nil || address == n.addr {
		return
	}
	n.tr.Disconnect(address)
}

// peerDown is the transport's report that the connection to or from addr
// broke, or that its handshake was refused; err says why. A refused
// handshake, a Disconnect, a silent peer (TickTime), a restart or a new
// connection that replaced this one is named in the reason, a
// *NodeDownError (so ErrNodeDown for errors.Is); an ordinary break is a
// *NodeDownError without a reason.
func (n *Node) peerDown(addr string, err error) {
	if errors.Is(err, transport.ErrHandshake) || errors.Is(err, transport.ErrDisconnected) ||
		errors.Is(err, transport.ErrPeerTimeout) || errors.Is(err, transport.ErrRestarted) || errors.Is(err, transport.ErrReconnected) {
		n.nodeLost(addr, &NodeDownError{Address: addr, Reason: err})
		return
	}
	n.nodeDown(addr)
}
