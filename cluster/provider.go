package cluster

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
)

// Provider is where membership and the directory come from: Consul (see
// Consul) or the embedded provider (see Embedded). A provider reports what
// it sees to the Sink it was given, as whole snapshots; the cluster turns
// them into events and keeps the directory's cache.
type Provider interface {
	// Join makes self a member and starts reporting to s, until Leave.
	Join(ctx context.Context, n *actor.Node, self Member, s Sink) error
	// Register records the directory entry e of the joined node. A provider
	// that loses its entries (Consul restarted, say) publishes them again.
	Register(ctx context.Context, e Entry) error
	// Unregister removes the joined node's entry for name.
	Unregister(ctx context.Context, name string) error
	// Leave removes the node from the cluster at once (a clean stop) and
	// returns when the provider's goroutines have ended.
	Leave(ctx context.Context) error
}

// Resolver is implemented by providers that can answer a lookup the cache
// missed with an authoritative read (Consul's consistent KV read).
type Resolver interface {
	Resolve(ctx context.Context, name string) ([]Entry, error)
}

// Sink receives a provider's snapshots. Its methods are safe to call from
// any goroutine; a provider calls them in the order it saw the changes.
type Sink interface {
	// SetMembers reports every live member, the joined node included.
	SetMembers(members []Member)
	// SetEntries reports every directory entry the provider knows of.
	SetEntries(entries []Entry)
	// Reject reports input the provider ignored (a malformed greeting or
	// directory entry): counted in Stats and logged.
	Reject(what string, err error)
}
