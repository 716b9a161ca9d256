package cluster

// Table says which node owns a key: the routing table of the cluster, as
// the KV.Router of the Mix and OTP guide keeps it. Two implementations come
// with the package: Ranges (a key's first byte, as in the guide) and Ring
// (consistent hashing, as in Riak). A router consults its node's own table
// for every request, from its own goroutine; an implementation that changes
// at run time must be safe for concurrent use.
//
// Every node must compute the same owner for the same key from the same
// table: an implementation must not depend on anything local to the
// process (no random seeds, no map order).
type Table interface {
	// Owner returns the name of the node that owns key. An empty key is an
	// error wrapping ErrEmptyKey; a key no entry holds is one wrapping
	// ErrNoRoute.
	Owner(key string) (node string, err error)
}
