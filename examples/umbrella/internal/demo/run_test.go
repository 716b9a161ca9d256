package demo

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// The demo itself, shortened: the scenario with its kill -9, restart and
// checks passes, and Run returns with every node stopped (goleak checks
// the load, the clients and the demo's own node ended too).
func TestRunShortScenario(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Run(ctx, Config{Duration: 8 * time.Second, Clients: 3, Out: &out, Exe: os.Args[0]}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"kill -9 core-a", "failover: the users core runs on core-b", "takeover: the users core runs on core-a", "every service worked"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("no %q in the demo's output:\n%s", want, out.String())
		}
	}
}
