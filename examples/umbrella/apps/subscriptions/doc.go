// Package subscriptions manages the subscriber lists of profile events:
// which WebSocket client, on which access node, follows which user. It is
// the seed's pub-sub controller that takes the management of subscriber
// lists out of the messaging layer, and that must work alone: its
// exchange "subscriptions" has the LeaderOnly strategy, the exchange
// appoints one controller leader (no vote: the oldest connection), and
// only the leader answers and runs the periodic sweep.
//
// Two applications: subscriptions_hub (Hub), the exchange, distributed on
// a priority list of nodes; and subscriptions (Controller), a controller
// on each node of a release that runs it. Each controller follows the
// exchange's events: *exchange.Leader (am I the leader? who are the
// members?), *exchange.MemberUp and *exchange.MemberDown. The leader sends
// each change of the lists to the other members (a Change), and the whole
// lists to a member that comes up, so that the next leader, appointed
// when this one's node dies, holds the same lists.
//
// The controller is a plain gen_server with an exchange.Membership, not a
// patterns.Controller: it needs its process in its handler to send the
// changes, and its own messages (the sweep's tick).
package subscriptions
