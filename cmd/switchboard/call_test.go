package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// TestMessages: call, publish and submit through n2, to exchanges of n1.
func TestMessages(t *testing.T) {
	tc := cluster(t)
	env := []string{"SWITCHBOARD_NODE=" + tc.Node(1).Address(), "SWITCHBOARD_COOKIE=" + cookie}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"call", "orders", `"hello"`}, `"ok"`},
		{[]string{"call", "--type", "google.protobuf.Struct", "orders", `{"a": 1}`}, `"ok"`},
		{[]string{"call", "orders", "--type", "google.protobuf.Int64Value", `"7"`, "--timeout", "5s"}, `"ok"`},
		{[]string{"publish", "news", "a.b", `"hi"`}, "published google.protobuf.StringValue to news on n1@localhost, key a.b"},
		{[]string{"submit", "jobs", `"job"`}, "submitted google.protobuf.StringValue to jobs on n1@localhost"},
	} {
		code, out, errOut := cli(t, env, c.args...)
		if code != exitOK || strings.TrimSpace(out) != c.want {
			t.Fatalf("%v: exit %d, %q (want %q): %s", c.args, code, out, c.want, errOut)
		}
	}
	var r struct {
		Type  string
		Reply string
	}
	code, out, errOut := cli(t, env, "call", "orders", `"x"`, "--json")
	if code != exitOK {
		t.Fatalf("call --json: exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Type != "google.protobuf.StringValue" || r.Reply != "ok" {
		t.Fatalf("call --json: %+v %v\n%s", r, err, out)
	}
	var p published
	if code, out, errOut = cli(t, env, "submit", "jobs", `"more"`, "--json"); code != exitOK {
		t.Fatalf("submit --json: exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Exchange != "jobs" || p.Node != "n1@localhost" {
		t.Fatalf("submit --json: %+v %v\n%s", p, err, out)
	}
	// The two tasks submitted wait in the queue (its worker holds its
	// prefetch of 2 of the first 3, the third waits too).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := tasks.Inspect(ctx, tc.Node(0), exchange.At(tc.Node(0).Address(), "jobs"))
	if err != nil || st.Ready != 3 {
		t.Fatalf("queue after 2 submits: %+v %v", st, err)
	}
}

func TestMessageErrors(t *testing.T) {
	tc := cluster(t)
	tc.StartExchange(1, exchange.Spec{Name: "empty"}) // no controller
	addr := tc.Node(0).Address()
	good := []string{"SWITCHBOARD_COOKIE=" + cookie, "SWITCHBOARD_NODE=" + addr}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		code int
		says string
	}{
		{"bad JSON", good, []string{"call", "orders", "{"}, exitUsage, "bad message"},
		{"JSON of another type", good, []string{"call", "orders", "--type", "google.protobuf.Int64Value", `"x"`}, exitUsage, "Int64Value"},
		{"unknown type", good, []string{"call", "orders", "--type", "no.Such", `"x"`}, exitUsage, "no.Such"},
		{"missing message", good, []string{"call", "orders"}, exitUsage, "EXCHANGE MSG"},
		{"publish missing key", good, []string{"publish", "news", `"x"`}, exitUsage, "EXCHANGE KEY MSG"},
		{"unknown exchange", good, []string{"call", "nope", `"x"`}, exitUnknown, "nope"},
		{"no controller", good, []string{"call", "empty", `"x"`, "--timeout", "3s"}, exitUnknown, "no controller"},
		{"call a queue", good, []string{"call", "jobs", `"x"`}, exitUnknown, "tasks"},
		{"publish to a queue", good, []string{"publish", "jobs", "k", `"x"`}, exitUnknown, "tasks"},
		{"submit to an exchange", good, []string{"submit", "orders", `"x"`}, exitUnknown, "request-response"},
		{"unreachable", good, []string{"call", "orders", `"x"`, "--node", "127.0.0.1:1"}, exitUnreachable, "cannot reach"},
		{"wrong cookie", []string{"SWITCHBOARD_NODE=" + addr}, []string{"submit", "jobs", `"x"`, "--cookie", "wrong"}, exitCookie, "cookie"},
	} {
		code, _, errOut := cli(t, c.env, c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("%s: exit %d (want %d): %s", c.name, code, c.code, errOut)
		}
	}
}
