package tracing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/switchboardtest"
	"github.com/switchboard-go/switchboard/tracing"
)

// TestSpansAcrossNodes: client on a, exchange on b, controller on c; one
// trace of three spans, each the parent of the next, and a failure
// recorded on the controller's and the client's spans.
func TestSpansAcrossNodes(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tracing.New(tracing.Config{TracerProvider: tp})

	tc := switchboardtest.NewCluster(t, 3)
	ex := tc.StartExchange(1, exchange.Spec{Name: "orders", Strategy: exchange.RoundRobin, Middleware: []exchange.Middleware{tr.Middleware()}})
	var handlerSpan trace.SpanContext
	tc.StartController(2, ex, patterns.NewController(ex, tr.Controller(func(ctx context.Context, r *exchange.Request) (any, error) {
		handlerSpan = trace.SpanContextFromContext(ctx)
		if r.Msg.(*wrapperspb.StringValue).GetValue() == "fail" {
			return nil, errors.New("out of stock")
		}
		return wrapperspb.String("ok"), nil
	})))
	c := patterns.NewClient(tc.Node(0))
	c.Intercept = tr.Intercept

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx, root := tp.Tracer("test").Start(ctx, "root")
	if _, err := c.Call(ctx, ex, wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	root.End()
	spans := ended(t, rec, 4) // the exchange's may end after the reply: it ends when routing returns
	if len(spans) != 4 {
		t.Fatalf("%d spans, want root, call, route, handle: %v", len(spans), names(spans))
	}
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = s
	}
	call, route, handle := byName["orders call"], byName["orders route"], byName["orders handle"]
	if call == nil || route == nil || handle == nil {
		t.Fatalf("spans %v", names(spans))
	}
	trace0 := root.SpanContext().TraceID()
	for _, s := range []sdktrace.ReadOnlySpan{call, route, handle} {
		if s.SpanContext().TraceID() != trace0 {
			t.Fatalf("%s is in trace %s, want %s", s.Name(), s.SpanContext().TraceID(), trace0)
		}
	}
	if call.Parent().SpanID() != root.SpanContext().SpanID() || route.Parent().SpanID() != call.SpanContext().SpanID() ||
		handle.Parent().SpanID() != route.SpanContext().SpanID() || !route.Parent().IsRemote() || !handle.Parent().IsRemote() {
		t.Fatal("the spans are not client -> exchange -> controller across nodes")
	}
	if call.SpanKind() != trace.SpanKindClient || handle.SpanKind() != trace.SpanKindServer {
		t.Fatalf("kinds %v, %v", call.SpanKind(), handle.SpanKind())
	}
	if handlerSpan.SpanID() != handle.SpanContext().SpanID() {
		t.Fatal("the handler's ctx does not carry its span")
	}

	// A failure: recorded on the controller's span and the client's.
	rec2 := len(rec.Ended())
	if _, err := c.Call(ctx, ex, wrapperspb.String("fail")); err == nil {
		t.Fatal("no error")
	}
	for _, s := range ended(t, rec, rec2+3)[rec2:] {
		if s.Name() != "orders route" && s.Status().Code.String() != "Error" {
			t.Fatalf("%s: status %v", s.Name(), s.Status())
		}
	}
	if n := len(rec.Ended()) - rec2; n != 3 {
		t.Fatalf("%d spans for the failed call", n)
	}
}

// ended waits (boundedly) for n ended spans and returns them.
func ended(t *testing.T, rec *tracetest.SpanRecorder, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.Ended()) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return rec.Ended()
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}
