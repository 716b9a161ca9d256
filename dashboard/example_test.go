package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/dashboard"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/inspect"
)

// A node serves its dashboard under /dashboard/ of an HTTP server of its
// own; the page is at /dashboard/, its snapshot at
// /dashboard/api/snapshot.
func Example() {
	ctx := context.Background()
	node, err := actor.Start(actor.Config{Name: "a@example", Listen: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = node.Stop(ctx) }()
	// Every node shown runs an inspector.
	if _, err := inspect.Start(ctx, node, inspect.Sources{}); err != nil {
		log.Fatal(err)
	}
	if _, err := exchange.Start(ctx, node, exchange.Spec{Name: "orders", Strategy: exchange.LeaderOnly}); err != nil {
		log.Fatal(err)
	}

	d, err := dashboard.New(dashboard.Config{Node: node})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	mux := http.NewServeMux()
	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", d))
	srv := httptest.NewServer(mux) // or http.ListenAndServe, or ops.Listen
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/dashboard/api/snapshot")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var snap dashboard.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		log.Fatal(err)
	}
	for _, n := range snap.Nodes {
		fmt.Println("node", n.Name, "up:", n.Up)
	}
	for _, e := range snap.Exchanges {
		fmt.Println("exchange", e.Name, "on", e.Node, "strategy", e.Strategy, "controllers:", len(e.Controllers))
	}
	// Output:
	// node a@example up: true
	// exchange orders on a@example strategy leader controllers: 0
}
