// Package pubsub implements publish-subscribe exchanges: a message
// published with a routing key reaches every subscriber whose topic
// pattern matches the key, with the semantics of AMQP's topic exchange
// (package topic: "*" is one word, "#" zero or more).
//
// A pub-sub exchange (Start, Spec) monitors its subscribers and drops
// those that exit. A proxy (Spec.Upstream) on an access node subscribes
// upstream once per distinct pattern and fans each message out to its
// local subscribers, so one message crosses the network once per proxy,
// not once per subscriber. Subscribers get each message in HandleInfo;
// AsMessage turns what arrives (a *Message from the same node, an encoded
// delivery from another) into a *Message. Inspect reports an exchange's
// counters from any node.
//
// Package patterns has the user side: Subscribe, Publish and Collect.
// See docs/pubsub.md.
package pubsub
