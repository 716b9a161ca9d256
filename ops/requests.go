package ops

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// The results a request is counted under.
var results = [...]string{"ok", "timeout", "no_controller", "not_found", "node_down", "rejected", "overloaded", "bad_request", "canceled", "error"}

// result classifies a request's outcome: an index into results.
func result(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, actor.ErrTimeout) || errors.Is(err, context.DeadlineExceeded):
		return 1
	case errors.Is(err, exchange.ErrNoController):
		return 2
	case errors.Is(err, exchange.ErrExchangeNotFound):
		return 3
	case errors.Is(err, actor.ErrNodeDown):
		return 4
	case errors.Is(err, exchange.ErrRejected) || errors.Is(err, exchange.ErrBadDecision) || errors.Is(err, exchange.ErrRedirectLoop):
		return 5
	case errors.Is(err, actor.ErrOverloaded):
		return 6
	case errors.Is(err, exchange.ErrTooLarge) || errors.Is(err, exchange.ErrBadRequest) || errors.Is(err, actor.ErrNotSerializable):
		return 7
	case errors.Is(err, context.Canceled):
		return 8
	}
	return 9
}

// requestMetrics count requests by exchange and result and time them by
// exchange, with the metrics of each exchange looked up once.
type requestMetrics struct {
	count   *prometheus.CounterVec
	latency *prometheus.HistogramVec
	byName  sync.Map // exchange -> *exchangeRequests
	every   uint64
}

type exchangeRequests struct {
	latency prometheus.Observer
	results [len(results)]prometheus.Counter
	every   uint64        // time one request in every
	seen    atomic.Uint64 // requests so far, to pick those timed
	count   func(error)   // countResult, bound once
}

// epoch makes the clock reads monotonic only: time.Since of a time with a
// monotonic reading reads one clock, time.Now two.
var epoch = time.Now()

// timed reports whether this request is one of those timed.
func (e *exchangeRequests) timed() bool { return e.every <= 1 || e.seen.Add(1)%e.every == 0 }

func (e *exchangeRequests) countResult(err error) { e.results[result(err)].Inc() }

// start returns the function that ends one request: its count, and its
// latency if it is timed.
func (e *exchangeRequests) start() func(error) {
	if !e.timed() {
		return e.count
	}
	t0 := time.Since(epoch)
	return func(err error) { e.observe(time.Since(epoch)-t0, err) }
}

func newRequestMetrics(role, help string, buckets []float64, every int) *requestMetrics {
	return &requestMetrics{every: uint64(max(every, 1)),
		count: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: role, Name: "requests_total", Help: "Count of " + help + ".",
		}, []string{"exchange", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "switchboard", Subsystem: role, Name: "request_duration_seconds",
			Help: "Latency of " + help + " (every result; a sample of them, see Config.LatencyEvery).", Buckets: buckets,
		}, []string{"exchange"}),
	}
}

func (m *requestMetrics) of(name string) *exchangeRequests {
	if v, ok := m.byName.Load(name); ok {
		return v.(*exchangeRequests)
	}
	e := &exchangeRequests{latency: m.latency.WithLabelValues(name), every: m.every}
	e.count = e.countResult
	for i, r := range results {
		e.results[i] = m.count.WithLabelValues(name, r)
	}
	v, _ := m.byName.LoadOrStore(name, e)
	return v.(*exchangeRequests)
}

func (e *exchangeRequests) observe(d time.Duration, err error) {
	e.latency.Observe(d.Seconds())
	e.results[result(err)].Inc()
}

// Intercept is a patterns.Interceptor that counts every request of a
// Client, and times one in Config.LatencyEvery (set it as the Client's Intercept, or chain it with
// patterns.ChainInterceptors): switchboard_client_requests_total and
// switchboard_client_request_duration_seconds.
func (o *Ops) Intercept(_ context.Context, req *exchange.Request) func(error) {
	return o.client.of(req.Exchange).start()
}

// InstrumentController wraps a controller's handler so that it counts
// every request it handles, and times one in Config.LatencyEvery: switchboard_controller_requests_total
// and switchboard_controller_request_duration_seconds.
func (o *Ops) InstrumentController(h patterns.Handler) patterns.Handler {
	return func(ctx context.Context, req *exchange.Request) (any, error) {
		done := o.ctrl.of(req.Exchange).start()
		v, err := h(ctx, req)
		done(err)
		return v, err
	}
}

var _ patterns.Interceptor = (*Ops)(nil).Intercept
