// Package transport carries wire.Frames between nodes over TCP.
//
// Each node listens on one address. To send, a node dials the peer once and
// keeps the connection: the first message is a wire.Hello naming the
// sender's address, then frames follow, each a 4-byte big-endian length and
// the protobuf encoding. One writer goroutine per peer batches frames and
// flushes when its queue is empty, so frames from one node to another arrive
// in the order they were sent.
//
// A broken connection, in either direction, is reported once through
// Config.PeerDown with the peer's address: that is how a node learns that
// another went away. Frames that were queued for it are dropped; the next
// Send dials again. A frame larger than Config.MaxFrameSize, or one that does
// not decode, closes its connection and is counted; nothing panics.
package transport
