package cluster

import "errors"

// Errors of the routing table and the router. Test them with errors.Is; they
// keep their identity across nodes too (as actor.RemoteError matches them by
// their text), since every one of them is returned bare or wrapped as
// "%w: details".
var (
	// ErrNoRoute: the table has no entry for the key (a Ranges with no range
	// holding its first byte, or an empty Ring).
	ErrNoRoute = errors.New("cluster: no route")
	// ErrEmptyKey: a routing key must have at least one byte.
	ErrEmptyKey = errors.New("cluster: empty routing key")
	// ErrRoutingLoop: a request was forwarded more than the router's MaxHops
	// times, as when the tables of two nodes name each other as the owner.
	ErrRoutingLoop = errors.New("cluster: routing loop")
	// ErrUnresolvedNode: the table named an owner node that the router's
	// Resolve has no address for.
	ErrUnresolvedNode = errors.New("cluster: unresolved node")
	// ErrInvalidTable: a routing table was built from bad entries
	// (overlapping or inverted ranges, an empty node name).
	ErrInvalidTable = errors.New("cluster: invalid routing table")
	// ErrInvalidRouterSpec: a RouterSpec failed Validate.
	ErrInvalidRouterSpec = errors.New("cluster: invalid router spec")
	// ErrBadRouteRequest: a RouteRequest from another node could not be
	// decoded (no payload, or a payload of a type this node does not know).
	ErrBadRouteRequest = errors.New("cluster: malformed route request")
)
