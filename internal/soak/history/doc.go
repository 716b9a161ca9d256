// Package history records what a soak run did and checks it afterwards.
//
// A history is a file of JSON lines, one Record each: an operation's
// invocation and outcome (requests, keyed requests, publishes, subscribes,
// durable tasks, streams), an effect a service applied under a key, an
// event delivered to a subscriber, a fault injected (its kind, the nodes it
// touched, when it began and ended), a distributed application's instance
// starting or stopping, a node's membership view and its resource samples.
//
// Check reads a history against a Config and returns the Violations, each
// naming the rule and the operations involved, and a Summary to print:
//
//   - no confirmed task lost: every task whose submission was confirmed has
//     its effect applied;
//   - no keyed effect applied twice;
//   - no hang: every operation with a deadline completed, answered or failed
//     with a typed error, by its deadline plus Config.Margin;
//   - every event published after a subscriber's subscribe confirmation was
//     delivered to it, unless a fault touched its node or the publisher's
//     (those are counted as gaps);
//   - membership converged after the last fault;
//   - never two instances of a distributed application outside a handover;
//   - goroutines and heap of every node bounded.
package history
