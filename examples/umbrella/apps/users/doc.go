// Package users is the umbrella's users service: user profiles, asked for
// and changed by request-response, with an event published after every
// change.
//
// It is two applications:
//
//   - users_core (Core), the distributed part: the exchange "users" and the
//     pub-sub exchange "profiles". It runs on one node of a priority list
//     (package distapp) and fails over to a pre-started standby.
//   - users (Replica), a controller of "users" that holds profiles and
//     publishes ProfileUpdated on "profiles" with the key "profile.<user>".
//     A release runs it on five nodes: five replicas.
//
// The exchange balances with the Sticky strategy on the user's id (the
// request's routing key): every request about one user goes to the same
// replica while that replica lives, so the replica's copy of a profile is
// the one its updates changed and a read sees the writes before it,
// while the users as a whole spread over the five replicas by hash. Round
// robin would spread the load as evenly but send a read to a replica that
// did not see the update before it; LeaderOnly would put all the load on
// one replica. (The seed leaves storage aside; here each replica keeps the
// profiles it served in memory, and a user whose replica dies or whose
// exchange restarts is bound to another one, which starts from its own
// copy.)
//
// Clients use Get and Update, which set the routing key.
package users
