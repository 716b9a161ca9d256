// Package inspect looks into a running cluster from any of its nodes:
// nodes and their applications, supervision trees, exchanges, pub-sub
// subscriptions and proxies, task queues and distributed applications.
//
// Every inspection is a call over the cluster transport whose request and
// answer are protobuf messages, so it works on the caller's node and on
// any other alike. Some inspections are answered by the thing inspected
// (exchange.Inspect, pubsub.Describe, tasks.Inspect and tasks.Workers,
// supervisor.Inspect, actor.Node.InspectProcess); what only the node
// knows (its applications, its registered names, its view of the
// cluster, its distributed applications) is answered by the node's
// inspector, a process registered as Name that Start spawns.
//
// Errors are typed: ErrNoInspector (the node runs no inspector),
// actor.ErrNodeDown (the node is gone or unreachable), actor.ErrNoProcess
// (a supervisor or process that is gone), exchange.ErrExchangeNotFound
// (an exchange that is gone), exchange.ErrWrongKind.
//
// A Server may show its own state by implementing actor.Inspector.
package inspect
