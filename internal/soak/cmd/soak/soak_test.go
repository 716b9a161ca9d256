package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/consultest"
)

// TestSoakOneMinute is the soak of CI (make test): the driver, built as
// make soak builds it, for one minute with the fixed seed 42, whose
// schedule kills the backlog queue's node with a backlog, cuts a link and
// pauses, slows and skews. It fails on any violation the checker
// reports, or if the run could not be set up. Skipped under -short.
func TestSoakOneMinute(t *testing.T) {
	if testing.Short() {
		t.Skip("the one-minute soak (about 80 s): runs without -short, as make test does")
	}
	consul, err := consultest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "soak")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	// The run's files stay for a failure to be read (soak check DIR
	// checks them again); a passing run's are removed.
	dir, err := os.MkdirTemp("", "TestSoakOneMinute-")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "SWITCHBOARD_CONSUL="+consul, "SOAK_DURATION=1m", "SOAK_SEED=42", "SOAK_DIR="+dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soak: %v after %v (its files kept in %s)\n%s", err, time.Since(start).Round(time.Second), dir, out)
	}
	defer os.RemoveAll(dir)
	for _, want := range []string{"soak: PASS, no violations", "tasks in backlog)", " cut ", " kill ", " pause "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the soak's output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("soak, %v:\n%s", time.Since(start).Round(time.Second), out)
}
