// Package patterns holds the message-exchange patterns as user APIs, on
// package exchange.
//
// Request-response: a Client sends from plain goroutines (Call, CallAll for
// every reply of a Broadcast exchange, CallAs for a typed reply); Request
// returns at once and the reply arrives later in a process's HandleInfo as
// a *Response with the request tag. On the service side, a Controller joins
// an exchange and answers with a Handler; any gen_server can be a
// controller instead, with exchange.Membership.
//
// The reply goes from the controller straight to the client, never back
// through the exchange — except for a request with an idempotency key
// (WithIdempotencyKey): the exchange runs each key once within its window
// and answers every duplicate with that run's outcome, and Call repeats a
// keyed request that got no answer (Retry). A client holds no process or goroutine: replies
// land in its node's table of pending requests. Every request has a
// deadline (ctx's, or the node's CallTimeout) and ends with a reply or a
// typed error: exchange.ErrExchangeNotFound, ErrNoController, ErrRejected,
// ErrTooLarge, actor.ErrTimeout, actor.ErrNodeDown, or a controller's crash
// (*actor.ExitError wrapping *actor.PanicError). A request whose
// controller's node, or exchange's node, goes away gets actor.ErrNodeDown
// as soon as the node before it on the path learns of it, not at its
// deadline: the exchange's node answers for the controllers it forwarded
// to (see actor.Node.Forward).
//
// Chunked responses: a StreamController answers a request with a stream
// of chunks sent straight to the client, within the credit the client
// grants (a window of chunks, replenished as its loop takes them);
// Client.Stream and StreamAs return them as an iter.Seq2, and breaking out
// of the loop or ctx ending stops the producer. Responses with request: an
// InteractController's handler asks its client questions (Ask) before its
// final reply; Client.Interact answers them with a function. Both run
// each request on goroutines of its own, owned by the controller.
//
// Publish-subscribe: Subscribe a process to a pub-sub exchange with a
// topic pattern, Publish with a routing key, and the process gets an
// *pubsub.Message per match; Collect is reverse pub-sub, many sources to
// one consumer, in one line.
//
// Task distribution: Tasks.Submit hands a task to a task queue
// (tasks.Start) and returns once the queue holds it; a Worker
// joins the queue with a prefetch limit, gets tasks round-robin and
// settles each with Ack, Nack or Reject. See docs/tasks.md.
package patterns
