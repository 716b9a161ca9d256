// Package dashboard is a live web dashboard of a cluster, Erlang's
// Observer for Switchboard, served by any of its nodes: the nodes and the
// links each sees, their applications and supervision trees, the
// request-response exchanges with their leader, controllers and request
// rates, the pub-sub exchanges and the task queues with their depths.
//
// A Dashboard is an http.Handler: mount it on a server of the node's own
// (beside the ops endpoint's /metrics, say) under any path prefix with
// http.StripPrefix. It serves a page of plain HTML and a little
// JavaScript embedded in the binary (no build step, nothing fetched from
// the internet), the current snapshot as JSON at api/snapshot, and the
// snapshots as they come as server-sent events at events.
//
// The dashboard looks at the cluster through package inspect: every node
// to be shown runs an inspector (inspect.Start). While someone watches,
// one goroutine asks every member's inspector, and each exchange and task
// queue it lists, once per Config.Interval; nobody watching, it asks
// nothing. Rates are the counters' differences between two snapshots;
// the latencies shown are those of the inspection calls themselves (a
// round trip to the node's inspector, to the exchange's process), a
// measure of how responsive each is. A node that stops answering stays
// on the page as down, with the error, until it is Config.Forget old.
//
// A Dashboard shows everything it can reach to whoever can reach its
// address: serve it on a loopback or otherwise trusted address.
package dashboard
