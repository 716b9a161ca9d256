// Package ops is a node's operations endpoint: Prometheus metrics
// (/metrics), liveness (/healthz) and readiness (/readyz) on one
// http.Handler that a node mounts on a server of its own or opens with
// Listen.
//
// Most metrics are read at scrape time from the counters the node keeps
// anyway (actor.Node.Stats, cluster.Cluster.Stats, the inspections of its
// exchanges, task queues and supervisors): the request path does nothing
// more for them. Request counts by result and latency histograms need a
// word per request: Ops.Intercept is a patterns.Interceptor for clients
// and Ops.Handler wraps a controller's handler; each request then costs a
// clock read and an atomic histogram update.
//
// Every Ops has a registry of its own (no global state): several nodes in
// one process each serve their own metrics.
package ops
