package actor

import "github.com/switchboard-go/switchboard/internal/wire"

// speaksFor reports whether frame f, from the connection of the node at
// addr, may be handled: its sender must be a process of that node. A
// connection speaks only for the node it authenticated as (the transport
// has had addr confirm it, see docs/security.md), so a frame naming a
// process of another node as its sender (a forged exit, down or link) is
// dropped and counted in Stats.Spoofed. What the protocol lets a frame
// name elsewhere stays allowed: a call's reply_address (a forwarded call
// is answered to the client's node) and replies, which name no sender.
func (n *Node) speaksFor(addr string, f *wire.Frame) bool {
	from := f.GetFrom()
	if from == nil || from.GetAddress() == addr {
		return true
	}
	if c := n.stats.spoofed.Add(1); c&(c-1) == 0 { // the 1st, 2nd, 4th, ...: a flood logs little
		n.log.Warn("dropped frames whose sender names another node than their connection",
			"connection", addr, "sender", from.GetAddress(), "dropped", c)
	}
	return false
}

// incarnation is this life of the node: the time it started, in unix
// nanoseconds. The transport sends it in every handshake, so that a node
// that restarted at the same address is known as another; and process
// ids count from it, so that the ids of a node's processes are never
// those of an earlier life at the same address: a PID of a node that
// restarted names no process there (calls fail with ErrNoProcess,
// monitors fire, sends are dropped) instead of whichever new process got
// its number. That holds as long as a node spawns fewer than one process
// per nanosecond of its life, on a clock that does not step back.
func (n *Node) incarnation() uint64 {
	inc := uint64(n.epoch.UnixNano())
	n.ids.Store(inc)
	return inc
}

// idDigits are the 64 digits of process ids (as protoactor's, whose ids
// these were).
const idDigits = "0123456789abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ~+"

// processID renders the id of the seq-th process: "$" and seq in base 64.
func processID(seq uint64) string {
	var buf [12]byte // "$" and at most 11 digits
	i := len(buf)
	for {
		i--
		buf[i] = idDigits[seq&63]
		seq >>= 6
		if seq == 0 {
			break
		}
	}
	i--
	buf[i] = '$'
	return string(buf[i:])
}
