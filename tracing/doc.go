// Package tracing follows requests across nodes with OpenTelemetry: a span
// on the client, one on the exchange and one on each controller, linked
// through the request's headers (exchange.Request.Headers), which carry
// the trace context from node to node (W3C Trace Context by default).
//
// Nothing is traced unless it is installed, in three places: the client's
// Intercept (Tracing.Intercept, a patterns.Interceptor), the exchange's
// middleware (Tracing.Middleware) and the controller's handler
// (Tracing.Controller). Without them a request carries no headers and
// costs nothing more; programs that do not import this package do not
// link OpenTelemetry.
package tracing
