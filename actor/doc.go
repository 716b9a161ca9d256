// Package actor gives Go processes with Erlang's feel, on protoactor-go's
// mailboxes and scheduling.
//
// A Node is one actor system with a name (name@host) and, if configured, a
// transport to other nodes. It spawns processes: each runs a Server (the
// gen_server behaviour: Init, HandleCall, HandleCast, HandleInfo, Terminate)
// one message at a time, on a goroutine of the node's while it has
// messages; an idle process holds no goroutine, and under 1 KB of heap.
// Embed BaseServer and write only the callbacks you need.
//
// Messages: Call waits for a reply (with the context's deadline, or the
// node's CallTimeout), Cast and Send do not. A call does not create a
// process or future: each node has one table of pending calls, and a reply
// goes straight into its caller's slot. A call to a process that does not
// exist fails at once with ErrNoProcess; one whose node goes away fails with
// ErrNodeDown (a *NodeDownError naming the node), as soon as this node
// learns of it. A call forwarded on (Forward, as an exchange does) is
// answered so too by the forwarding node if the node it went to goes away.
//
// Failure: a panic in a callback is a crash of that process, never of the
// node. Processes link (exit signals both ways, trapped as Exit messages
// with TrapExit) and monitor (a Down message with the exit reason), also
// across nodes; a node that goes away is an ErrNodeDown exit for every link
// and monitor to it. Exit sends an exit signal; ErrKill kills at once.
// Names are registered per node (Register, Whereis, WithName) and released
// when their process exits, so a restarted process can take its name back.
//
// Remote spawn is opt-in, name by name (Ergo's EnableSpawn): a node allows
// a SpawnFactory under a name with AllowSpawn, optionally for some nodes
// only, and another node starts a process from it with SpawnOn (Erlang's
// spawn/4), or SpawnLinkOn and SpawnMonitorOn from a process (spawn_link,
// spawn_monitor: the link or monitor is in place before the new process
// runs). Names not allowed are ErrUnknownSpawn, nodes not allowed
// ErrSpawnRefused, a failed factory or Init ErrInit; a node that is down
// is ErrNodeDown at once.
//
// Bounded memory: the queue for each other node has a byte bound
// (Limits.MaxPeerQueueBytes), and a process spawned WithMailboxLimit takes
// at most that many Sends and Casts waiting in its mailbox; past either,
// Send and Cast return ErrOverloaded (a message from another node to a full
// mailbox is dropped), counted in Stats. Backlog reads a local mailbox's
// length, so that a producer that owns a policy (an exchange) can bound a
// consumer's mailbox, and TryReply says whether a reply found room.
//
// Between nodes, messages must be protobuf messages; they travel as frames
// of package internal/wire over the node's own TCP transport, in order from
// one node to another.
//
// Package supervisor builds supervision trees and applications on this.
package actor
