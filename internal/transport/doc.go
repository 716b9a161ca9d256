// Package transport carries wire.Frames between nodes over TCP, or TLS.
//
// Each node listens on one address. To send, a node dials the peer once and
// keeps the connection. A handshake opens it (wire.Hello, Challenge, Proof,
// Welcome; see handshake.go): each side proves with an HMAC over the other's
// random nonce that it holds Config.Cookie, the cluster's secret, which never
// crosses the network, and the listener has the address the dialer claims
// confirm the dial by dialing it back (verify.go), so that a connection
// speaks only for the node it authenticated as (identity.go); a listener
// with no connection of its own to the dialer keeps that dialback as it,
// so a pair that talks both ways makes two connections. Then the
// dialer writes frames, each a 4-byte big-endian length and the protobuf
// encoding, and the listener writes nothing but ticks: each node ticks
// to each peer when idle, once per pair, and a peer from which nothing
// came on any connection for Config.TickTime (the larger of both sides',
// which the handshake exchanges) is declared down (tick.go). A frame sent to an idle
// connection (nothing queued, nothing being written, no frame written by
// a sender in the last 20 µs) is written at once by the sending goroutine,
// with one non-blocking write; the rest of it, if the socket takes only
// part, and every other frame go to the peer's writer goroutine, which
// first lets the goroutines ready to run go (senders woken together, such
// as callers answered by one read, queue their frames meanwhile) and then
// writes its whole queue in one writev. While any reader of
// the node has more whole frames buffered (a burst), frames the node sends
// meanwhile are held, and the reader writes them itself, per peer in one
// non-blocking write, when its burst ends (once the goroutines it made
// ready have run, so that their frames go too) or every 32 frames (see
// cork.go); the handler a reader runs must therefore not block. TLS
// connections always go through the writer (Unix only: elsewhere every
// connection does). Send never blocks, and frames from one node to
// another arrive in the order they were sent. With Config.TLS
// set, every connection is TLS (mutual if the config requires client
// certificates) and the handshake runs inside it.
//
// A refused handshake (other cookie, other protocol version, TLS failure,
// a claimed address that does not confirm the dial) delivers nothing, is
// counted in Stats.Refused and logged as a warning; the dialing side
// reports the peer down with an error wrapping ErrHandshake (ErrBadCookie
// for a cookie mismatch, ErrUnconfirmed, ErrMisdirected). The listening
// side reports nothing: the address in a refused Hello is only a claim. A
// connection that closes before its handshake completes (EOF, reset: the
// peer stopping) is no refusal: it is logged at debug level and not
// counted, and the dialing side reports the peer down with
// ErrHandshakeClosed.
//
// What a peer can make a node hold is bounded (see Limits): connections in
// their handshake (a 512-byte reader each, 64 KiB only once authenticated and busy;
// beyond Limits.MaxPendingConns closed at once), the time a frame takes to
// arrive once its length prefix has (Limits.FrameTimeout), the memory of
// large frames being read and handled, node-wide (Limits.MaxInflightBytes),
// and the bytes queued for a peer that does not read
// (Limits.MaxPeerQueueBytes: Send returns ErrOverloaded for a data frame
// that does not fit, and queues nothing of it). Refusals are logged at most
// 10 times per peer host every 10 s, and every one is counted in Stats.
//
// A broken connection, in either direction, is reported once through
// Config.PeerDown with the peer's address: that is how a node learns that
// another went away. An inbound connection reports only while it is the
// established one of its address: a newer confirmed connection from the
// same node replaces it, reporting it down first (ErrReconnected, or
// ErrRestarted for a new incarnation). A connection closed because its
// peer was silent reports ErrPeerTimeout. Disconnect breaks them on
// purpose. Frames that were queued for it are dropped; the next Send
// dials again. A frame larger than Config.MaxFrameSize, or one that does
// not decode, closes its connection and is counted; nothing panics.
package transport
