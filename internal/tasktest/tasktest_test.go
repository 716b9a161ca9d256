package tasktest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWaitProcessedTallies(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	write := func(p string, lines ...string) {
		var s string
		for _, l := range lines {
			s += l
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a, Line("k1", 1, true), Line("k2", 2, true), Line("k3", 3, true))
	write(b, Line("k1", 1, false), Line("k2", 2, true), Line("k3", 4, false))
	got, err := WaitProcessed([]string{a, b}, map[string]bool{"k1": true, "k2": true, "k3": true}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := Tally{Processed: 3, Redelivered: 2, DuplicateEffects: 1, TwoTasks: 1}
	if got != want {
		t.Fatalf("tally %+v, want %+v", got, want)
	}
	if _, err := WaitProcessed([]string{a}, map[string]bool{"k4": true}, 10*time.Millisecond); err == nil {
		t.Fatal("a key in no file: no error")
	}
}

func TestEffectsApplyOnce(t *testing.T) {
	e := NewEffects()
	if !e.Apply("k") || e.Apply("k") {
		t.Fatal("Apply: want true then false")
	}
}
