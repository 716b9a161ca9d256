package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// A watcher that does not keep up gets the latest snapshot, not a queue
// of them, and holds nobody up; one that comes later gets the latest at
// once.
func TestHubHandsTheLatest(t *testing.T) {
	var h hub
	h.init()
	slow := h.watch()
	for i := range 3 {
		if err := h.publish(Snapshot{Observer: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	var got Snapshot
	if err := json.Unmarshal(<-slow, &got); err != nil || got.Observer != "c" {
		t.Fatalf("slow watcher got %+v, %v", got, err)
	}
	select {
	case b := <-slow:
		t.Fatalf("a second snapshot queued: %s", b)
	default:
	}
	late := h.watch()
	if err := json.Unmarshal(<-late, &got); err != nil || got.Observer != "c" {
		t.Fatalf("late watcher got %+v, %v", got, err)
	}
	h.unwatch(slow)
	h.unwatch(late)
	if h.watched() || h.latest != nil {
		t.Fatal("still watched, or a stale snapshot kept for the next watcher")
	}
}

// Nobody watching, the dashboard asks the cluster nothing; a request for
// the snapshot makes one round.
func TestIdleWhileNobodyWatches(t *testing.T) {
	n, err := actor.Start(actor.Config{Name: "idle@test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	var rounds atomic.Int64
	d, err := New(Config{Node: n, Interval: 5 * time.Millisecond, Now: func() time.Time { rounds.Add(1); return time.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	srv := httptest.NewServer(d)
	defer srv.Close()
	// Forty intervals without a watcher: no round.
	time.Sleep(200 * time.Millisecond) // observing that nothing happens for a while
	if r := rounds.Load(); r != 0 {
		t.Fatalf("%d rounds with nobody watching", r)
	}
	resp, err := http.Get(srv.URL + "/api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	var snap Snapshot
	err = json.NewDecoder(resp.Body).Decode(&snap)
	_ = resp.Body.Close()
	// idle@test runs no inspector: shown down, saying so.
	if err != nil || snap.Observer != "idle@test" || len(snap.Nodes) != 1 || snap.Nodes[0].Up ||
		!strings.Contains(snap.Nodes[0].Error, "runs no inspector") {
		t.Fatalf("snapshot %+v, %v", snap, err)
	}
	after := rounds.Load()
	if after < 1 {
		t.Fatal("no round for the request")
	}
	time.Sleep(200 * time.Millisecond) // again nobody watches
	if r := rounds.Load(); r > after+1 {
		t.Fatalf("%d rounds after the request, %d at its end", r, after)
	}
}
