// Package exchange implements exchange points: one process per exchange,
// registered by name on its node, between clients and the controllers
// that serve them.
//
// Controllers join an exchange (Membership), optionally in a service group
// (ServiceTag) and under a connection tag; the exchange monitors them and
// appoints a leader without voting: the controller of the oldest
// connection. Every controller gets a *Leader event when it joins and
// whenever the leader changes, and *MemberUp / *MemberDown when others
// come and go. A controller whose exchange dies gets *ExchangeDown and
// joins again when it is back.
//
// A request reaches the exchange as a call forwarded on the client's
// behalf (actor.Node.Forward). Middleware runs around routing; the
// strategy (Broadcast, RoundRobin, LeaderOnly, LeaderRoundRobin, Sticky,
// StickyFunc, Func) picks controllers; the exchange forwards the call to
// them and drops out: each controller's HandleCall return value goes
// straight to the client. In one node a request travels as a *Request,
// unencoded; between nodes as a protobuf envelope. Errors the client sees
// (ErrNoController, ErrRejected, ErrTooLarge, …) work with errors.Is on any
// node. Package patterns has the client side and a ready controller.
//
// The leader is one per exchange, not one per service group: routing to
// the leader of a group is the Func strategy's business.
//
// A pub-sub exchange (StartPubSub) delivers each message published with a
// routing key to every subscriber whose topic pattern matches it (package
// topic: AMQP's "*" and "#"); subscribers are monitored and removed when
// they exit; a proxy (PubSubSpec.Upstream) subscribes upstream once per
// pattern and fans out on its own node.
//
// Exchanges publish themselves in the cluster's directory (package
// cluster), so Local(name) reaches them from any node of the cluster.
//
// A task queue (StartTasks, TasksSpec) is an exchange that holds tasks
// until a worker acks them: workers join with a prefetch limit
// (TaskWorkerJoin), get deliveries round-robin (TaskBatch in one node,
// TaskDeliveries between nodes), and settle them (TaskAcks); the queue
// takes back what is not settled within AckTimeout or whose worker died,
// and dead-letters a task after MaxDeliveries. Its state is pure logic,
// fed events and the time by its process. Package patterns has the
// producer (Tasks) and the worker (Worker); see docs/tasks.md.
package exchange
