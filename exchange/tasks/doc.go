// Package tasks implements task queues: an exchange that holds tasks
// until a worker acknowledges them.
//
// Workers join with a prefetch limit and get deliveries round-robin, each
// with a delivery tag (a *Batch on the queue's own node, encoded between
// nodes; AsTasks decodes both). A worker acks, nacks (redeliver to
// another worker) or rejects (dead-letter at once) each tag. The queue
// takes back a delivery that is not settled within Spec.AckTimeout or
// whose worker died, and dead-letters a task after Spec.MaxDeliveries:
// the dead-letter target (a task queue or a pub-sub exchange) receives a
// *DeadLetter, a protobuf message so that a worker on any node decodes
// it. Workers see the queue's events (*WorkerJoined, *Revoked,
// *AcksRefused) through Event.
//
// A queue with Spec.Dir is durable: each task is written to a log of
// segment files (seglog.go) and synced before its submission is
// confirmed, with one fsync for every task waiting for it (group commit);
// acks mark tasks done there, and a queue started on the same directory
// delivers every confirmed task not acked. SubmitAsync returns a Confirm
// to wait for later, so a producer keeps many in flight. A task's key
// (Submission.Key) makes the queue take it once within Spec.DedupWindow,
// a window that a durable queue keeps across restarts.
//
// The queue's state is pure logic, fed events and the time by its
// process (the scenarios in testdata/ drive it directly). Package
// patterns has the producer (Tasks) and the worker (Worker). See
// docs/tasks.md.
package tasks
