package ops

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/supervisor"
)

// ErrInvalidConfig: a Config failed Validate.
var ErrInvalidConfig = errors.New("ops: invalid config")

// Config configures a node's operations endpoint.
type Config struct {
	// Node is the node observed; required.
	Node *actor.Node
	// Apps is the node's application controller: its supervisors'
	// restarts are exported, and /readyz waits for ReadyApps.
	Apps *supervisor.AppController
	// ReadyApps are the applications that must run (in Apps) before the
	// node is ready.
	ReadyApps []string
	// Standalone: the node is ready without joining a cluster. By default
	// /readyz waits until it has joined one (cluster.Join).
	Standalone bool
	// Ready, if set, is a further readiness check: not ready while it
	// returns an error (whose text /readyz shows).
	Ready func() error
	// Buckets are the latency histograms' upper bounds in seconds;
	// default from 50 µs to about 13 s, doubling.
	Buckets []float64
	// LatencyEvery: the latency histograms time one request in
	// LatencyEvery, per exchange (the request counts have them all):
	// reading the clock twice costs 60 ns to 400 ns, a tenth of a request
	// within a node on some machines. Default 16; 1 times every request.
	LatencyEvery int
	// ScrapeTimeout bounds each inspection of a local exchange or
	// supervisor at scrape time; default 1 s.
	ScrapeTimeout time.Duration
}

// Validate reports what is wrong with the config, wrapping
// ErrInvalidConfig.
func (c Config) Validate() error {
	if c.Node == nil {
		return fmt.Errorf("%w: no Node", ErrInvalidConfig)
	}
	if len(c.ReadyApps) > 0 && c.Apps == nil {
		return fmt.Errorf("%w: ReadyApps without Apps", ErrInvalidConfig)
	}
	for i := 1; i < len(c.Buckets); i++ {
		if c.Buckets[i] <= c.Buckets[i-1] {
			return fmt.Errorf("%w: Buckets not increasing", ErrInvalidConfig)
		}
	}
	return nil
}

// Ops is a node's operations endpoint.
type Ops struct {
	cfg      Config
	reg      *prometheus.Registry
	client   *requestMetrics
	ctrl     *requestMetrics
	mux      *http.ServeMux
	promHTTP http.Handler
}

// New returns the operations endpoint of cfg.Node.
func New(cfg Config) (*Ops, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Buckets == nil {
		cfg.Buckets = prometheus.ExponentialBuckets(50e-6, 2, 19)
	}
	if cfg.LatencyEvery <= 0 {
		cfg.LatencyEvery = 16
	}
	if cfg.ScrapeTimeout <= 0 {
		cfg.ScrapeTimeout = time.Second
	}
	o := &Ops{cfg: cfg, reg: prometheus.NewRegistry()}
	o.client = newRequestMetrics("client", "requests a client of this node sent, by exchange and result", cfg.Buckets, cfg.LatencyEvery)
	o.ctrl = newRequestMetrics("controller", "requests the controllers of this node handled, by exchange and result", cfg.Buckets, cfg.LatencyEvery)
	for _, c := range []prometheus.Collector{o.client.count, o.client.latency, o.ctrl.count, o.ctrl.latency, &collector{o: o}} {
		if err := o.reg.Register(c); err != nil {
			return nil, err
		}
	}
	o.promHTTP = promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	o.mux = http.NewServeMux()
	o.mux.Handle("/metrics", o.promHTTP)
	o.mux.HandleFunc("/healthz", o.healthz)
	o.mux.HandleFunc("/readyz", o.readyz)
	return o, nil
}

// Registry is the registry behind /metrics: register collectors of your
// own there to serve them with the node's.
func (o *Ops) Registry() *prometheus.Registry { return o.reg }

// ServeHTTP serves /metrics, /healthz and /readyz.
func (o *Ops) ServeHTTP(w http.ResponseWriter, r *http.Request) { o.mux.ServeHTTP(w, r) }
