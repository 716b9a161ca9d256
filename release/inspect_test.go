package release_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/release"
)

// A node started from a release answers inspections: its applications
// and exchanges, as any node would see them.
func TestStartedNodeAnswersInspections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := release.Parse("r.toml", []byte(goodHead+"[apps.db]\n[exchanges.time]\nkind = \"request\"\n"), release.Apps{"db": emptyApp()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := r.Start(ctx, release.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = run.Stop(ctx) }()
	info, err := inspect.Node(ctx, run.Node(), run.Node().Address())
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, a := range info.Applications {
		apps = append(apps, a.Name)
	}
	if !slices.Contains(apps, "db") || len(info.Exchanges) != 1 || info.Exchanges[0].Name != "time" || info.Exchanges[0].Kind != "request-response" || !info.Joined {
		t.Fatalf("info %+v", info)
	}
}

// node.metrics_addr opens the node's /metrics, /healthz and /readyz,
// ready once its applications run, and Stop closes it.
func TestMetricsAddr(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	head := goodHead + "metrics_addr = \"127.0.0.1:0\"\n"
	r, err := release.Parse("r.toml", []byte(head+"[apps.db]\n"), release.Apps{"db": emptyApp()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := r.Start(ctx, release.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + run.MetricsAddr()
	get := func(path string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, "switchboard_applications_running 1") {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	if err := run.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("/healthz"); code != 0 {
		t.Fatalf("/healthz after Stop: %d, want no answer", code)
	}
}
