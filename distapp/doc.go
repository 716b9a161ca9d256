// Package distapp runs distributed applications, as OTP does: an
// application (and with it its supervision tree and exchanges) runs on
// exactly one node of a priority list; the other listed nodes are
// pre-started standbys. When the node running it dies, a standby starts it
// (start type Failover); when a node of higher priority starts, it takes
// the application over (start type Takeover), and the old instance stops
// once the new one has started.
//
// Every listed node runs a Coordinator and starts the application's Spec
// on it:
//
//	dc, _ := distapp.NewCoordinator(node, apps) // after cluster.Join
//	err := dc.Start(ctx, distapp.Spec{
//		Application: orders,                             // a supervisor.Application
//		Nodes:       [][]string{{"a@h1"}, {"b@h2", "c@h3"}}, // OTP's [a, {b, c}]
//	})
//
// # Protocol
//
// Exactly one node runs the application: the holder of the cluster lock
// "distapp:<name>" (cluster.Locker: on Consul a KV lock whose session is
// bound to the node's health check, on the embedded provider a flock). A
// node that holds it registers "distapp.running:<name>" in the cluster's
// directory before it starts the application and unregisters it after the
// application stopped; every node with a manager of the application
// registers "distapp:<name>". Each node's manager process (registered as
// ProcessName(name)) reads the directory on membership events and every
// 100 ms and decides (decide.go, a pure function):
//
//   - The application runs nowhere: the present nodes are ranked by
//     priority, then by how many distributed applications they run, then
//     by name; the node of rank r tries for the lock r×Stagger after it
//     saw the application go (plus FailoverTimeout if it ran before), and
//     starts it with Failover{From: the node last seen running it}, or
//     Normal. The lock, not the ranking, guarantees one instance: the
//     ranking only makes the best node the likely winner.
//   - It runs on a node of lower priority when this node starts: take it
//     over (takeover.go): the old node releases its lock, this node takes
//     it and starts the application with Takeover{From}, then the old
//     node runs Spec.Handover and stops its instance. A node of equal
//     priority that starts does not take over.
//   - The lock is lost (Consul ended the session, or could not be reached
//     for cluster.LossBound): the instance stops at once.
//
// Exchanges started by the application publish themselves in the
// directory when they start, so clients that address them by name
// (exchange.Named) reach the new instance after a failover, and
// controllers that joined by name join it again.
//
// Failure detection is the cluster provider's, not net_ticktime: on
// Consul the node's TTL check (the lock is free at most TTL after the node
// died, plus a lock delay of 10 ms); on the embedded provider the kernel
// frees the lock when the process dies. See docs/distapp.md.
package distapp
