// Package documents is the umbrella's background work: uploaded documents
// checked by workers of a task queue (the seed's task pattern), with
// acks, retries (nack: the queue gives the document to another worker)
// and dead letters (a document refused outright, or one that failed at
// every delivery up to the queue's limit).
//
// Two applications: documents_queue (Queue), the queue "documents" and
// its dead-letter queue "documents.dead", distributed on a priority list
// of nodes; and documents (Checker), the workers: a checker of
// "documents" and a quarantine worker of "documents.dead" that records
// each dead document by cause.
//
// Each checker node also runs a task supervisor (TaskSupervisorName) with
// one named function, ScanTask: a caller on any node picks the node and
// runs a check there at once, supervisor.Async then Await (Elixir's
// Task.Supervisor.async({sup, node}, fn) and Task.await), and gets a
// Verdict or a typed error (the task failed or crashed, its node went
// down, an unknown task name).
//
// A checker rejects a document named *.exe (dead-lettered at once, cause
// REJECTED) and nacks the first FailFirst deliveries of a document (a
// scanner briefly unavailable): below the delivery limit it is retried on
// another worker, at the limit it dies (cause DELIVERY_LIMIT).
//
// With the key journal set (SWITCHBOARD_DOCUMENTS_JOURNAL=path), each
// checker node appends a JSON line (Entry) to that file for every
// document it settles — checked, rejected, or quarantined dead — before
// it acks: an audit trail of verdicts, and what the soak reads to check
// that no accepted document was lost (docs/soak.md). Delivery is at least
// once, so a document settled again after its checker died before the
// ack has a line per settlement.
package documents
