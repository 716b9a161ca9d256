// Package cluster makes nodes one cluster: who is a member, where each
// exchange lives, and which node owns a key.
//
// Membership comes from a Provider. Consul (see Consul) registers every
// node as an instance of a service with a TTL check it renews, holds a
// member record in KV under a session bound to that check, and follows the
// records with blocking queries; the embedded provider (see
// Embedded, the default) needs nothing installed: nodes greet a static
// list of seeds over their TCP transport and monitor each other, in one
// process, on one machine or across hosts (each node listening on an
// address the others can dial; its locks hold on one machine only). Either
// way a node calls Join once and then sees NodeUp and NodeDown events
// (OnEvent, or MonitorNodes for a process, as net_kernel:monitor_nodes), and
// Members at any time. A node with another cookie (actor.Config.Cookie)
// is never a member.
//
// The directory maps names to the nodes that register them (Register,
// Unregister, Lookup): an exchange registers itself when it starts and
// unregisters when it stops, so
// exchange.Named(name) reaches it from any node. On Consul the entries
// live in KV under a session bound to the node's check, so a dead node's
// entries vanish by themselves; every node keeps the whole directory in a
// local cache that blocking queries and NodeDown keep current, so a lookup
// is a map read.
//
// The routing layer maps keys to nodes with a Table (Ranges of a key's
// first byte, as in the Mix and OTP guide, or a consistent-hashing Ring
// that FollowMembers keeps equal to the live members) and forwards a
// request to its key's owner through per-node Routers (see Route).
//
// See docs/cluster.md and docs/routing.md.
package cluster
