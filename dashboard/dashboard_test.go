package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/dashboard"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/switchboardtest"
)

// stream reads a dashboard's server-sent events.
type stream struct {
	body io.Closer
	r    *bufio.Reader
}

func openStream(t *testing.T, url string) *stream {
	t.Helper()
	resp, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: %s, %q", resp.Status, ct)
	}
	s := &stream{body: resp.Body, r: bufio.NewReader(resp.Body)}
	t.Cleanup(func() { _ = s.body.Close() })
	return s
}

// next returns the next snapshot event.
func (s *stream) next() (dashboard.Snapshot, error) {
	var event, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return dashboard.Snapshot{}, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && event == "snapshot":
			var snap dashboard.Snapshot
			return snap, json.Unmarshal([]byte(data), &snap)
		}
	}
}

// await reads snapshots until check passes, for at most d: the stream
// has a snapshot each Interval, so each read is bounded too.
func (s *stream) await(t *testing.T, d time.Duration, check func(dashboard.Snapshot) error) dashboard.Snapshot {
	t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		snap, err := s.next()
		if err != nil {
			t.Fatalf("reading events: %v (last check: %v)", err, last)
		}
		if last = check(snap); last == nil {
			return snap
		}
	}
	t.Fatalf("after %v: %v", d, last)
	return dashboard.Snapshot{}
}

func node(s dashboard.Snapshot, name string) (dashboard.NodeView, bool) {
	i := slices.IndexFunc(s.Nodes, func(n dashboard.NodeView) bool { return n.Name == name })
	if i < 0 {
		return dashboard.NodeView{}, false
	}
	return s.Nodes[i], true
}

// TestDashboardOverLoopback: three nodes in this process, an exchange on
// n1 with its leader on n2, a task queue on n3 with tasks waiting; the
// dashboard on n1 shows them over its event stream, counts the requests
// that flow, and shows n3 down once it stops.
func TestDashboardOverLoopback(t *testing.T) {
	c := switchboardtest.NewCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range c.Nodes() {
		if _, err := inspect.Start(ctx, n, inspect.Sources{}); err != nil {
			t.Fatal(err)
		}
	}
	ex := c.StartExchange(0, exchange.Spec{Name: "orders", Strategy: exchange.LeaderOnly})
	c.StartController(1, ex, patterns.NewController(ex, func(context.Context, *exchange.Request) (any, error) {
		return wrapperspb.String("ok"), nil
	}))
	jobs := c.StartTasks(2, tasks.Spec{Name: "jobs"})
	for i := range 4 {
		if err := patterns.NewTasks(c.Node(0)).Submit(ctx, jobs, wrapperspb.Int32(int32(i))); err != nil {
			t.Fatal(err)
		}
	}

	d, err := dashboard.New(dashboard.Config{Node: c.Node(0), Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	defer func() { _ = d.Close() }()

	// The page and its script are served from the binary.
	for path, want := range map[string]string{"/": "<title>Switchboard dashboard</title>", "/app.js": "EventSource", "/style.css": "#graph"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("GET %s: %s, no %q in %.200s", path, resp.Status, want, b)
		}
	}

	s := openStream(t, srv.URL)
	snap := s.await(t, 20*time.Second, func(s dashboard.Snapshot) error {
		var names []string
		for _, n := range s.Nodes {
			if n.Up && len(n.Links) == 2 {
				names = append(names, n.Name)
			}
		}
		if !slices.Equal(names, []string{"n1@localhost", "n2@localhost", "n3@localhost"}) {
			return fmt.Errorf("nodes up with two links: %v", names)
		}
		if len(s.Exchanges) != 1 || s.Exchanges[0].Leader != "n2@localhost" || len(s.Exchanges[0].Controllers) != 1 {
			return fmt.Errorf("exchanges %+v", s.Exchanges)
		}
		if len(s.Queues) != 1 || s.Queues[0].Ready != 4 || s.Queues[0].Node != "n3@localhost" {
			return fmt.Errorf("queues %+v", s.Queues)
		}
		return nil
	})
	if e := snap.Exchanges[0]; e.Name != "orders" || e.Node != "n1@localhost" || e.Strategy != "leader" || !e.Controllers[0].Leader {
		t.Fatalf("exchange %+v", e)
	}

	// Requests flow: the exchange's rate moves.
	client := patterns.NewClient(c.Node(0))
	s.await(t, 20*time.Second, func(s dashboard.Snapshot) error {
		for range 20 {
			if _, err := client.Call(ctx, ex, wrapperspb.String("x")); err != nil {
				return err
			}
		}
		if r := s.Exchanges[0].RoutedRate; r <= 0 {
			return fmt.Errorf("routed %d, rate %v", s.Exchanges[0].Routed, r)
		}
		return nil
	})

	// n3 stops: shown down (left the cluster), its queue gone.
	c.Stop(2)
	s.await(t, 20*time.Second, func(s dashboard.Snapshot) error {
		n3, ok := node(s, "n3@localhost")
		if !ok || n3.Up || n3.Error == "" {
			return fmt.Errorf("n3 %+v (shown %v)", n3, ok)
		}
		if len(s.Queues) != 0 {
			return fmt.Errorf("queues %+v", s.Queues)
		}
		return nil
	})

	// The JSON snapshot says the same.
	resp, err := http.Get(srv.URL + "/api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	var one dashboard.Snapshot
	err = json.NewDecoder(resp.Body).Decode(&one)
	_ = resp.Body.Close()
	if n3, ok := node(one, "n3@localhost"); err != nil || !ok || n3.Up {
		t.Fatalf("api/snapshot: %v, n3 %+v", err, n3)
	}

	// Close ends the stream and answers later requests with 503.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("stream after Close: %v", err)
	}
	resp, err = http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("events after Close: %s", resp.Status)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := dashboard.New(dashboard.Config{}); !errors.Is(err, dashboard.ErrInvalidConfig) {
		t.Fatalf("no node: %v", err)
	}
	n, err := actor.Start(actor.Config{Name: "v@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	if _, err := dashboard.New(dashboard.Config{Node: n, Interval: -1}); !errors.Is(err, dashboard.ErrInvalidConfig) {
		t.Fatalf("negative interval: %v", err)
	}
}

// TestDashboardVia: the dashboard of a node outside the cluster (as the
// switchboard command's) shows the members that Via lists; once Via stops,
// it shows Via down and asks the other members it listed last directly.
func TestDashboardVia(t *testing.T) {
	c := switchboardtest.NewCluster(t, 2, switchboardtest.WithCookie("sesame"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range c.Nodes() {
		if _, err := inspect.Start(ctx, n, inspect.Sources{}); err != nil {
			t.Fatal(err)
		}
	}
	outside, err := actor.Start(actor.Config{Name: "outside@localhost", Listen: "127.0.0.1:0", Cookie: "sesame"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = outside.Stop(context.Background()) }()
	d, err := dashboard.New(dashboard.Config{Node: outside, Via: c.Node(0).Address(), Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	defer func() { _ = d.Close() }()
	s := openStream(t, srv.URL)
	s.await(t, 20*time.Second, func(s dashboard.Snapshot) error {
		var names []string
		for _, n := range s.Nodes {
			if n.Up {
				names = append(names, n.Name)
			}
		}
		if !slices.Equal(names, []string{"n1@localhost", "n2@localhost"}) || s.Observer != "outside@localhost" {
			return fmt.Errorf("nodes up %v, observer %s", names, s.Observer)
		}
		return nil
	})
	c.Stop(0)
	s.await(t, 20*time.Second, func(s dashboard.Snapshot) error {
		n1, _ := node(s, "n1@localhost")
		n2, _ := node(s, "n2@localhost")
		if n1.Up || !n2.Up || len(s.Errors) == 0 || !strings.HasPrefix(s.Errors[0], "members from ") {
			return fmt.Errorf("n1 %+v, n2 %+v, errors %q", n1, n2, s.Errors)
		}
		return nil
	})
}
