package actor

// Stats are counters of a node, for operations, and three gauges. Every
// input from another node that was refused or dropped, and every message
// not sent because its peer was overloaded, is counted here.
type Stats struct {
	Processes int    // live processes
	Crashes   uint64 // processes that exited with a panic
	// BadFrames counts frames from the network that were too large, could
	// not be decoded or were malformed inside (no sender, an unknown
	// payload type): the transport's count (each closed its connection)
	// and this package's (each dropped).
	BadFrames uint64
	// Refused counts connections refused at the handshake (cookie, TLS,
	// version, unconfirmed address, handshake deadline), in or out.
	Refused uint64
	// Unconfirmed counts inbound connections whose claimed address did
	// not confirm them (see docs/security.md); they are in Refused too.
	Unconfirmed uint64
	// Spoofed counts frames dropped because their sender names another
	// node than the connection they came on.
	Spoofed uint64
	// Silent counts connections closed because nothing came from their
	// peer for TickTime.
	Silent uint64
	// PendingRefused counts connections closed as soon as accepted because
	// Limits.MaxPendingConns others were in their handshake.
	PendingRefused uint64
	// SlowFrames counts connections cut because a frame did not arrive
	// whole within Limits.FrameTimeout of its length prefix.
	SlowFrames uint64
	// InflightWaits counts large frames that waited for room under
	// Limits.MaxInflightBytes.
	InflightWaits uint64
	// Overloaded counts messages not sent because their node's queue was
	// full (Limits.MaxPeerQueueBytes): those whose Send, Cast, Call or
	// Forward returned ErrOverloaded, and the replies dropped.
	Overloaded uint64
	// MailboxFull counts messages from Send and Cast that a process
	// spawned WithMailboxLimit did not take because its mailbox was full:
	// refused with ErrOverloaded on this node, dropped on arrival from
	// another.
	MailboxFull uint64
	// RepliesDropped counts the replies among Overloaded: their values
	// were dropped, and their callers told with ErrOverloaded unless the
	// error did not fit either (RepliesLost).
	RepliesDropped uint64
	// RepliesLost counts the replies dropped whose callers could not be
	// told either: they time out, or learn that the node is down.
	RepliesLost uint64
	// RefusalsLogged and RefusalsSuppressed count the refused connections
	// (Refused and PendingRefused) logged as a warning, and those the
	// rate limit kept out of the log.
	RefusalsLogged, RefusalsSuppressed uint64
	// FramesIn and FramesOut count the frames received from and sent to
	// other nodes (ticks not included).
	FramesIn, FramesOut uint64
	// Spawned counts processes started by spawn requests (SpawnOn and its
	// forms, from other nodes and this one); SpawnsRefused the requests
	// refused: an unknown or refused name, a malformed request or args.
	Spawned, SpawnsRefused uint64

	PendingConns  int   // gauge: accepted connections in their handshake now
	InflightBytes int64 // gauge: bytes of large frames being read or handled now
	QueuedBytes   int64 // gauge: bytes queued for other nodes now
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	count := 0
	n.procs.Range(func(_, _ any) bool { count++; return true })
	s := Stats{
		Processes:      count,
		BadFrames:      n.stats.badFrames.Load(),
		Crashes:        n.stats.crashes.Load(),
		Spoofed:        n.stats.spoofed.Load(),
		RepliesDropped: n.stats.repliesDropped.Load(),
		MailboxFull:    n.stats.mailboxFull.Load(),
		RepliesLost:    n.stats.repliesLost.Load(),
		Spawned:        n.stats.spawned.Load(),
		SpawnsRefused:  n.stats.spawnsRefused.Load(),
	}
	if n.tr != nil {
		ts := n.tr.Stats()
		s.BadFrames += ts.BadFrames
		s.Refused, s.Unconfirmed, s.Silent = ts.Refused, ts.Unconfirmed, ts.TimedOut
		s.PendingRefused = ts.PendingRefused
		s.SlowFrames = ts.SlowFrames
		s.InflightWaits = ts.InflightWaits
		s.Overloaded = ts.Overloaded
		s.RefusalsLogged, s.RefusalsSuppressed = ts.RefusalsLogged, ts.RefusalsSuppressed
		s.FramesIn, s.FramesOut = ts.FramesIn, ts.FramesOut
		s.PendingConns, s.InflightBytes, s.QueuedBytes = ts.PendingConns, ts.InflightBytes, ts.QueuedBytes
	}
	return s
}
