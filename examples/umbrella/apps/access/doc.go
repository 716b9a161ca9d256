// Package access is the umbrella's access layer: a node serving WebSocket
// clients (github.com/coder/websocket) with the profile events of the
// users they follow.
//
// The application access runs an HTTP server; its node's release declares
// a pub-sub proxy of the users service's event exchange as a static
// exchange (named by the key proxy). Each WebSocket connection gets a
// process of its own that subscribes to the local proxy, never to the
// exchange upstream: the
// proxy subscribes upstream once per distinct pattern, so one profile
// update crosses the network once per access node however many of its
// clients follow the user (the seed's 50,000 subscribers on 5 servers:
// 5 messages instead of 50,000). Each subscription is also recorded with
// the subscriptions service.
//
// The protocol: each WebSocket text frame is a ClientFrame or a
// ServerFrame in protobuf's JSON form. A client sends
// {"subscribe":"u3"} and gets {"subscribed":{"user":"u3",...}}, then
// {"update":{"profile":{...}}} for every update of u3. A frame that is not
// a ClientFrame is answered with {"error":...} and counted
// (access.bad_frames); the connection goes on.
package access
