package ops_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/ops"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serve opens o on a port of its own, closed at the test's end.
func serve(t *testing.T, o *ops.Ops) string {
	t.Helper()
	s, err := ops.Listen("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return "http://" + s.Addr()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape parses /metrics with the Prometheus text parser.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation) // Prometheus names: switchboard_[a-z_]+
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return fams
}

// value is the metric name's value with the labels (name=value pairs),
// -1 if it is missing.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

type crasher struct{ actor.BaseServer }

func (crasher) HandleCast(*actor.Process, any) { panic("on purpose") }

// TestMetricsMoveWithTraffic: a client node a and a server node b, each
// with its endpoint; after requests, publishes, submissions and a crash,
// both nodes' /metrics parse and show them.
func TestMetricsMoveWithTraffic(t *testing.T) {
	tc := switchboardtest.NewCluster(t, 2)
	a, b := tc.Node(0), tc.Node(1)
	apps, err := supervisor.NewAppController(ctxT(t), b)
	if err != nil {
		t.Fatal(err)
	}
	oa, err := ops.New(ops.Config{Node: a, LatencyEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := ops.New(ops.Config{Node: b, Apps: apps, ReadyApps: []string{"shop"}, LatencyEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	ua, ub := serve(t, oa), serve(t, ob)

	if code, body := get(t, ub+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "application shop not running") {
		t.Fatalf("/readyz before shop: %d %q", code, body)
	}
	ex := exchange.Named("orders")
	inner := supervisor.Spec{Strategy: supervisor.OneForOne, Intensity: 10, Period: time.Minute, Children: []supervisor.ChildSpec{
		supervisor.Worker("crasher", func() actor.Server { return crasher{} }, actor.WithName("crasher")),
	}}
	if err := apps.Load(supervisor.Application{Name: "shop", Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
		return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{
			exchange.ChildSpec(exchange.Spec{Name: "orders", Strategy: exchange.RoundRobin}),
			patterns.ControllerSpec("c", func() *patterns.Controller {
				return patterns.NewController(ex, ob.InstrumentController(func(_ context.Context, r *exchange.Request) (any, error) {
					if r.Msg.(*wrapperspb.StringValue).GetValue() == "fail" {
						return nil, errors.New("no")
					}
					return wrapperspb.String("ok"), nil
				}))
			}),
			supervisor.Supervisor("inner", inner),
		}})
	}}); err != nil {
		t.Fatal(err)
	}
	if err := apps.Start(ctxT(t), "shop", supervisor.Permanent); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = apps.StopAll(context.Background()) })
	if code, body := get(t, ub+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz with shop: %d %q", code, body)
	}
	if code, _ := get(t, ub+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	tc.AwaitExchange("orders", 1)
	news := tc.StartPubSub(1, pubsub.Spec{Name: "news"})
	jobs := tc.StartTasks(1, tasks.Spec{Name: "jobs"})

	before := scrape(t, ub)
	if v := value(before, "switchboard_exchange_routed_total", "exchange", "orders"); v != 0 {
		t.Fatalf("routed before traffic: %v", v)
	}
	if v := value(before, "switchboard_cluster_members"); v != 2 {
		t.Fatalf("cluster members: %v", v)
	}

	// Traffic from a: requests (one failing), publishes, submissions.
	c := patterns.NewClient(a)
	c.Intercept = oa.Intercept
	for i := range 6 {
		msg := "hi"
		if i == 5 {
			msg = "fail"
		}
		var opts []patterns.RequestOption
		if i < 2 { // the same key twice: one run, one replay
			opts = append(opts, patterns.WithIdempotencyKey("k1"))
		}
		_, err := c.Call(ctxT(t), ex, wrapperspb.String(msg), opts...)
		if (err != nil) != (i == 5) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	sub, err := b.Spawn(ctxT(t), &actor.BaseServer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := patterns.Subscribe(ctxT(t), b, news, "a.*", "", sub); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := patterns.Publish(ctxT(t), a, news, "a.b", wrapperspb.String("x")); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		if err := patterns.NewTasks(a).Submit(ctxT(t), jobs, wrapperspb.String("job")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Cast(actor.NamedPID(b.Address(), "crasher"), wrapperspb.String("boom")); err != nil {
		t.Fatal(err)
	}

	want := map[string][]any{
		// b: the exchange, its controller, pub-sub, the queue, the supervisor, the transport
		"b switchboard_exchange_routed_total exchange=orders":                            {5.0}, // the replay is not routed
		"b switchboard_exchange_controllers exchange=orders":                             {1.0},
		"b switchboard_controller_requests_total exchange=orders result=ok":              {4.0},
		"b switchboard_controller_requests_total exchange=orders result=error":           {1.0},
		"b switchboard_controller_request_duration_seconds exchange=orders":              {5.0},
		"b switchboard_pubsub_published_total exchange=news":                             {3.0},
		"b switchboard_pubsub_delivered_total exchange=news":                             {3.0},
		"b switchboard_pubsub_subscriptions exchange=news":                               {1.0},
		"b switchboard_tasks_submitted_total queue=jobs":                                 {4.0},
		"b switchboard_tasks_ready queue=jobs":                                           {4.0},
		"b switchboard_supervisor_restarts_total application=shop supervisor=shop/inner": {1.0},
		"b switchboard_supervisor_restarts_total application=shop supervisor=shop":       {0.0},
		"b switchboard_applications_running":                                             {1.0},
		"b switchboard_scrape_errors":                                                    {0.0},
		"b switchboard_exchange_keyed_runs_total exchange=orders":                        {1.0},
		"b switchboard_exchange_keyed_replayed_total exchange=orders":                    {1.0},
		"b switchboard_exchange_keys exchange=orders":                                    {1.0},
		// a: its client's requests by result, their latencies
		"a switchboard_client_requests_total exchange=orders result=ok":    {5.0},
		"a switchboard_client_requests_total exchange=orders result=error": {1.0},
		"a switchboard_client_request_duration_seconds exchange=orders":    {6.0},
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := map[string]map[string]*dto.MetricFamily{"a": scrape(t, ua), "b": scrape(t, ub)}
		var wrong []string
		for k, w := range want {
			f := strings.Fields(k)
			var labels []string
			for _, kv := range f[2:] {
				l, v, _ := strings.Cut(kv, "=")
				labels = append(labels, l, v)
			}
			if got := value(fams[f[0]], f[1], labels...); got != w[0].(float64) {
				wrong = append(wrong, fmt.Sprintf("%s = %v, want %v", k, got, w[0]))
			}
		}
		if fb := fams["b"]; value(fb, "switchboard_transport_frames_received_total") <= value(before, "switchboard_transport_frames_received_total") {
			wrong = append(wrong, "b received no frames")
		}
		// Per peer: b's traffic with a, each way, and none refused.
		fb := fams["b"]
		in, out := value(fb, "switchboard_transport_peer_frames_received_total", "peer", a.Address()), value(fb, "switchboard_transport_peer_frames_sent_total", "peer", a.Address())
		inB, outB := value(fb, "switchboard_transport_peer_received_bytes_total", "peer", a.Address()), value(fb, "switchboard_transport_peer_sent_bytes_total", "peer", a.Address())
		if in < 13 || out < 6 || inB < 20*in || outB < 20*out || value(fb, "switchboard_transport_peer_bad_frames_total", "peer", a.Address()) != 0 {
			wrong = append(wrong, fmt.Sprintf("b's traffic with a: %v frames in (%v bytes), %v out (%v bytes)", in, inB, out, outB))
		}
		if len(wrong) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics:\n%s", strings.Join(wrong, "\n"))
		}
		time.Sleep(20 * time.Millisecond) // the crash's restart and the deliveries are asynchronous: poll, bounded
	}
}

// TestHealth: /healthz is up while the node runs, /readyz waits for the
// cluster and for a check of the user's, and both say so once the node
// stops.
func TestHealth(t *testing.T) {
	n, err := actor.Start(actor.Config{Name: "h@localhost"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	ready := errors.New("warming up")
	o, err := ops.New(ops.Config{Node: n, Ready: func() error { return ready }})
	if err != nil {
		t.Fatal(err)
	}
	u := serve(t, o)
	if code, _ := get(t, u+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := get(t, u+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not in a cluster") || !strings.Contains(body, "warming up") {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	ready = nil
	o2, _ := ops.New(ops.Config{Node: n, Standalone: true})
	u2 := serve(t, o2)
	if code, body := get(t, u2+"/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("/readyz standalone: %d %q", code, body)
	}
	_ = n.Stop(context.Background())
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _ := get(t, u2+p); code != http.StatusServiceUnavailable {
			t.Fatalf("%s after Stop: %d", p, code)
		}
	}
	if _, err := ops.New(ops.Config{}); !errors.Is(err, ops.ErrInvalidConfig) {
		t.Fatalf("no node: %v", err)
	}
}

// TestLatencySample: by default one request in 16 is timed, all are
// counted.
func TestLatencySample(t *testing.T) {
	n, err := actor.Start(actor.Config{Name: "s@localhost"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	o, err := ops.New(ops.Config{Node: n, Standalone: true})
	if err != nil {
		t.Fatal(err)
	}
	req := exchange.NewRequest("x", nil, actor.ReplyTo{}, false)
	h := o.InstrumentController(func(context.Context, *exchange.Request) (any, error) { return nil, nil })
	for range 64 {
		o.Intercept(context.Background(), req)(nil)
		_, _ = h(context.Background(), req)
	}
	fams := scrape(t, serve(t, o))
	for _, role := range []string{"client", "controller"} {
		if c, h := value(fams, "switchboard_"+role+"_requests_total", "exchange", "x", "result", "ok"), value(fams, "switchboard_"+role+"_request_duration_seconds", "exchange", "x"); c != 64 || h != 4 {
			t.Fatalf("%s: %v counted, %v timed; want 64 and 4", role, c, h)
		}
	}
}
