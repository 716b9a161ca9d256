package tracing

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// ScopeName is the instrumentation scope of the spans.
const ScopeName = "github.com/switchboard-go/switchboard/tracing"

// Config configures the spans.
type Config struct {
	// TracerProvider makes the tracer; default otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// Propagator writes and reads the trace context in the headers;
	// default propagation.TraceContext (W3C traceparent, tracestate).
	Propagator propagation.TextMapPropagator
}

// Tracing makes the spans of requests.
type Tracing struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// New returns the tracing of cfg.
func New(cfg Config) *Tracing {
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	if cfg.Propagator == nil {
		cfg.Propagator = propagation.TraceContext{}
	}
	return &Tracing{tracer: cfg.TracerProvider.Tracer(ScopeName), prop: cfg.Propagator}
}

// Attribute keys of the spans.
const (
	AttrExchange   = attribute.Key("switchboard.exchange")
	AttrServiceTag = attribute.Key("switchboard.service_tag")
	AttrRoutingKey = attribute.Key("switchboard.routing_key")
	AttrConnTag    = attribute.Key("switchboard.connection_tag")
)

// Intercept is a patterns.Interceptor (set it as a Client's Intercept, or
// chain it): a client span per request, named "<exchange> call", child of
// the span in ctx if any, ended with the call's outcome; its context goes
// into the request's headers.
func (t *Tracing) Intercept(ctx context.Context, req *exchange.Request) func(error) {
	ctx, span := t.tracer.Start(ctx, req.Exchange+" call", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(requestAttrs(req)...))
	t.prop.Inject(ctx, carrier{req})
	return func(err error) { end(span, err) }
}

// Middleware is the exchange's middleware (put it first in
// exchange.Spec.Middleware): a span per request, named "<exchange>
// route", child of the client's, covering the middleware after it and the
// routing; the controllers' spans are its children.
func (t *Tracing) Middleware() exchange.Middleware {
	return func(req *exchange.Request, next func(*exchange.Request) error) error {
		ctx := t.prop.Extract(context.Background(), carrier{req})
		ctx, span := t.tracer.Start(ctx, req.Exchange+" route", trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(requestAttrs(req)...))
		t.prop.Inject(ctx, carrier{req})
		err := next(req)
		end(span, err)
		return err
	}
}

// Controller wraps a controller's handler: a server span per request,
// named "<exchange> handle", child of the exchange's, in the ctx the
// handler gets, so that its own spans (and the requests it makes through
// a traced Client) are its children.
func (t *Tracing) Controller(h patterns.Handler) patterns.Handler {
	return func(ctx context.Context, req *exchange.Request) (any, error) {
		ctx = t.prop.Extract(ctx, carrier{req})
		attrs := requestAttrs(req)
		if req.ConnTag != "" {
			attrs = append(attrs, AttrConnTag.String(req.ConnTag))
		}
		ctx, span := t.tracer.Start(ctx, req.Exchange+" handle", trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attrs...))
		v, err := h(ctx, req)
		end(span, err)
		return v, err
	}
}

func requestAttrs(req *exchange.Request) []attribute.KeyValue {
	attrs := []attribute.KeyValue{AttrExchange.String(req.Exchange)}
	if req.ServiceTag != "" {
		attrs = append(attrs, AttrServiceTag.String(req.ServiceTag))
	}
	if req.RoutingKey != "" {
		attrs = append(attrs, AttrRoutingKey.String(req.RoutingKey))
	}
	return attrs
}

func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// carrier is a request's headers as a propagation.TextMapCarrier; Set
// writes a copy (Request.SetHeader), never a map another holds.
type carrier struct{ r *exchange.Request }

func (c carrier) Get(key string) string { return c.r.Header(key) }
func (c carrier) Set(key, value string) { c.r.SetHeader(key, value) }
func (c carrier) Keys() []string {
	keys := make([]string, 0, len(c.r.Headers))
	for k := range c.r.Headers {
		keys = append(keys, k)
	}
	return keys
}

var _ patterns.Interceptor = (*Tracing)(nil).Intercept
