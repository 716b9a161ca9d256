// Package node runs one node of the umbrella from its release: it starts
// the actor node, joins the cluster (the embedded provider with seeds, or
// Consul), starts the release's applications — plain ones with the
// application controller, distributed ones with a distapp.Coordinator on
// their priority list — and a status process ("umbrella.status") that
// answers the demo's StatusRequest with the node's applications and
// counters. Stop takes it all down in reverse order.
package node
