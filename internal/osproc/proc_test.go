package osproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"
)

// The test binary is its own child: OSPROC_CHILD says what the child does.
func TestMain(m *testing.M) {
	switch os.Getenv("OSPROC_CHILD") {
	case "":
		os.Exit(m.Run())
	case "lines": // writes n lines and exits at once
		n, _ := strconv.Atoi(os.Getenv("OSPROC_N"))
		w := bufio.NewWriter(os.Stdout)
		for i := range n {
			fmt.Fprintf(w, "line %d\n", i)
		}
		_ = w.Flush()
		os.Exit(0)
	case "ready": // says READY, then runs until its stdin closes
		fmt.Println("starting")
		fmt.Println("READY at 127.0.0.1:1")
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	case "deaf": // ignores its stdin
		fmt.Println("READY")
		select {}
	}
}

func child(t *testing.T, kind string, c Config) *Proc {
	t.Helper()
	c.Path = os.Args[0]
	c.Args = []string{"-test.run=^$"}
	c.Env = append(c.Env, "OSPROC_CHILD="+kind)
	p, err := Start(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

func exited(t *testing.T, p *Proc) {
	t.Helper()
	select {
	case <-p.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the child did not end within 30s")
	}
}

// Every line a child wrote right before it ended is handed on before
// Exited is closed.
func TestLinesBeforeExit(t *testing.T) {
	const n = 20000
	got := 0
	p := child(t, "lines", Config{Env: []string{"OSPROC_N=" + strconv.Itoa(n)}, OnLine: func(string) { got++ }})
	exited(t, p)
	if got != n {
		t.Fatalf("%d lines handed on before the end, want %d", got, n)
	}
	if p.Alive() {
		t.Fatal("alive after its end")
	}
}

func TestAwaitAndStop(t *testing.T) {
	onLine, ready := Ready("READY")
	p := child(t, "ready", Config{OwnGroup: true, OnLine: onLine})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	line, err := p.Await(ctx, ready)
	if err != nil || line != "READY at 127.0.0.1:1" {
		t.Fatalf("Await: %q, %v", line, err)
	}
	if !p.Stop(30 * time.Second) {
		t.Fatal("the child did not stop when its stdin closed")
	}
}

func TestAwaitExited(t *testing.T) {
	onLine, ready := Ready("READY")
	p := child(t, "lines", Config{Env: []string{"OSPROC_N=3"}, OnLine: onLine})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.Await(ctx, ready); !errors.Is(err, ErrExited) {
		t.Fatalf("Await of a child that never says READY: %v, want ErrExited", err)
	}
}

// A child that ignores its stdin is killed when Stop's wait ends.
func TestStopKills(t *testing.T) {
	onLine, ready := Ready("READY")
	p := child(t, "deaf", Config{OnLine: onLine})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.Await(ctx, ready); err != nil {
		t.Fatal(err)
	}
	if p.Stop(100 * time.Millisecond) {
		t.Fatal("Stop says the child ended by itself")
	}
	if p.Alive() {
		t.Fatal("alive after Stop")
	}
}
