// Package exchange implements exchange points for request-response: one
// process per exchange, registered by name on its node, between clients
// and the controllers that serve them. Its siblings hold the other kinds
// of exchange, built on the same core (Address, the directory, the
// errors): package pubsub (publish-subscribe with topic patterns and
// proxies) and package tasks (task queues with acks and dead letters).
//
// Controllers join an exchange (Membership), optionally in a service group
// (ServiceTag) and under a connection tag; the exchange monitors them.
// Every controller gets a *Leader event when it joins and whenever the
// leader changes, and *MemberUp / *MemberDown when others come and go. A controller whose exchange dies gets *ExchangeDown and joins again
// when it is back.
//
// A request reaches the exchange as a call forwarded on the client's
// behalf (actor.Node.Forward). Middleware runs around routing; the
// strategy picks controllers; the exchange forwards the call to them and
// drops out: each controller's HandleCall return value goes straight to
// the client. A request with an idempotency key is the exception: the
// exchange runs it on one controller, takes the answer itself, and
// answers the request and its duplicates with it for a window (see
// Idempotency). In one node a request travels as a *Request, unencoded;
// between nodes as a protobuf envelope. Errors the client sees
// (ErrNoController, ErrRejected, ErrTooLarge, …) work with errors.Is on
// any node. Package patterns has the client side and a ready controller.
//
// The seven strategies of the seed, and which of them appoint a leader
// (without voting: the controller of the oldest connection):
//
//	Broadcast         every controller of the group           no leader
//	RoundRobin        the next controller in turn             no leader
//	LeaderOnly        the leader only ("consensus")           leader
//	LeaderRoundRobin  round-robin over all; a leader is named leader
//	Sticky            a hash of the request, bound to one     no leader
//	StickyFunc        Sticky with the user's hash             no leader
//	Func              the user's function: targets, redirect  no leader
//	                  or reject
//
// Under the two leader strategies a controller's Leader event names the
// leader (Leader.Is tells a controller whether it leads: the seed's
// pub-sub controllers and custom schedulers work only there); under the
// others Leader.Leader is nil. The leader is one per exchange, not one per
// service group.
//
// Exchanges publish themselves in the cluster's directory (package
// cluster), so Named(name) reaches them from any node of the cluster.
package exchange
