package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/dashboard"
)

// lines is an io.Writer that hands each line written to a channel.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	c   chan string
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line)
			return len(p), nil
		}
		l.c <- strings.TrimSpace(line)
	}
}

// TestDashboardCommand: switchboard dashboard through n2 serves the page
// and the snapshot of both nodes until its context ends; a wrong address
// or cookie is its exit code at once.
func TestDashboardCommand(t *testing.T) {
	tc := cluster(t)
	out := &lines{c: make(chan string, 10)}
	var errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- runDashboard(ctx, []string{"--node", tc.Node(1).Address(), "--listen", "127.0.0.1:0", "--interval", "100ms"},
			out, &errOut, func(k string) (string, bool) { return cookie, k == "SWITCHBOARD_COOKIE" })
	}()
	var url string
	select {
	case l := <-out.c:
		_, url, _ = strings.Cut(l, " on ")
		if !strings.HasPrefix(l, "dashboard of the cluster of n2@localhost on http://") {
			t.Fatalf("said %q", l)
		}
	case c := <-code:
		t.Fatalf("exit %d: %s", c, errOut.String())
	case <-time.After(20 * time.Second):
		t.Fatal("no address after 20 s")
	}
	resp, err := http.Get(url + "api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	var snap dashboard.Snapshot
	err = json.NewDecoder(resp.Body).Decode(&snap)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var up []string
	for _, n := range snap.Nodes {
		if n.Up {
			up = append(up, n.Name)
		}
	}
	if !slices.Equal(up, []string{"n1@localhost", "n2@localhost"}) || len(snap.Exchanges) != 1 || snap.Exchanges[0].Name != "orders" {
		t.Fatalf("nodes up %v, exchanges %+v", up, snap.Exchanges)
	}
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit %d: %s", c, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still serving 10 s after its context ended")
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"unreachable", []string{"--node", "127.0.0.1:1", "--cookie", cookie}, exitUnreachable, "cannot reach"},
		{"wrong cookie", []string{"--node", tc.Node(0).Address(), "--cookie", "wrong"}, exitCookie, "cookie"},
		{"no node", nil, exitUsage, "--node"},
		{"extra argument", []string{"--node", tc.Node(0).Address(), "nope"}, exitUsage, "nope"},
	} {
		code, _, errOut := cli(t, nil, append([]string{"dashboard"}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("%s: exit %d (want %d): %s", c.name, code, c.code, errOut)
		}
	}
}
