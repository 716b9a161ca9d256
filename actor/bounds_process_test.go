//go:build linux

package actor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/childtest"
)

// Tests of Limits against nodes in processes of their own, whose memory
// is read from /proc (VmRSS).

// boundsChildEnv makes the test binary run as a child node for these tests
// (see runBoundsChild).
const boundsChildEnv = "SWITCHBOARD_ACTOR_BOUNDS_CHILD"

// runBoundsChild is a node with default Limits in its own process: it
// serves "echo", and "stats", which answers with the node's Stats as JSON;
// it prints its address and lives until its stdin closes.
func runBoundsChild() {
	n, err := Start(Config{Name: "bounds@localhost", Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	ctx := context.Background()
	_, err = n.Spawn(ctx, &fn{}, WithName("echo"))
	if err == nil {
		_, err = n.Spawn(ctx, &fn{call: func(*Process, any) (any, error) {
			b, err := json.Marshal(n.Stats())
			return wrapperspb.String(string(b)), err
		}}, WithName("stats"))
	}
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("READY", n.Address())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func startBoundsChild(t *testing.T) (*childtest.Child, string) {
	t.Helper()
	c := childtest.Start(t, "bounds", boundsChildEnv+"=1")
	return c, strings.TrimPrefix(c.Expect(t, 30*time.Second, "READY "), "READY ")
}

// remoteStats asks the node at addr for its Stats.
func remoteStats(t *testing.T, n *Node, addr string) Stats {
	t.Helper()
	v, err := n.Call(ctxT(t), NamedPID(addr, "stats"), wrapperspb.String(""))
	if err != nil {
		t.Fatal(err)
	}
	var s Stats
	if err := json.Unmarshal([]byte(v.(*wrapperspb.StringValue).Value), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// raiseFileLimit makes room for need open files, or skips the test.
func raiseFileLimit(t *testing.T, need uint64) {
	t.Helper()
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Skipf("cannot read RLIMIT_NOFILE: %v", err)
	}
	if r.Cur >= need {
		return
	}
	if r.Max < need {
		t.Skipf("RLIMIT_NOFILE's hard limit is %d; this test needs %d open files", r.Max, need)
	}
	old := r
	r.Cur = need
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Skipf("cannot raise RLIMIT_NOFILE to %d: %v", need, err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

func rss(t *testing.T, pid int) int64 {
	t.Helper()
	v, err := childtest.RSS(pid)
	if err != nil {
		t.Skipf("cannot read RSS: %v", err)
	}
	return v
}

const mib = 1 << 20

// idleRSSBound bounds what 5,000 idle connections add to a node's RSS (the
// issue measured 26 -> 497 MB for 4,064 of them).
const idleRSSBound = 64 * mib

// 5,000 idle TCP connections to a node (a stranger that connects and says
// nothing) keep its RSS growth under idleRSSBound: at most MaxPendingConns
// of them get a goroutine and a small reader, the others are closed at
// once and counted, and the refusals log a few lines. Calls over the
// connections already established stay fast, and once the strangers'
// handshake deadline has passed a new node connects.
func TestIdleConnectionsKeepMemoryBounded(t *testing.T) {
	const conns = 5000
	raiseFileLimit(t, conns+1000)
	child, addr := startBoundsChild(t)
	good := newNode(t, Config{Name: "good@localhost", Listen: "127.0.0.1:0"})
	echo := NamedPID(addr, "echo")
	ping := wrapperspb.String("ping")
	for range 20 {
		if _, err := good.Call(ctxT(t), echo, ping); err != nil {
			t.Fatal(err)
		}
	}
	base := rss(t, child.Cmd.Process.Pid)
	stop := make(chan struct{})
	peak := childtest.PeakRSS(child.Cmd.Process.Pid, stop)

	var mu sync.Mutex
	var open []net.Conn
	failed := 0
	t.Cleanup(func() {
		for _, c := range open {
			_ = c.Close()
		}
	})
	start := time.Now()
	var wg sync.WaitGroup
	const dialers = 50
	for range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range conns / dialers {
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					open = append(open, c)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	dialed := time.Since(start)

	lat := make([]time.Duration, 0, 200)
	for range cap(lat) {
		s := time.Now()
		if _, err := good.Call(ctxT(t), echo, ping); err != nil {
			t.Fatalf("good call during the flood: %v", err)
		}
		lat = append(lat, time.Since(s))
	}
	s := remoteStats(t, good, addr)
	close(stop)
	top := <-peak
	slices.Sort(lat)
	growth := top - base
	t.Logf("%d connections dialed in %v (%d failed); child RSS %d MiB -> peak %d MiB (+%.1f MiB; bound %d MiB); good calls p50 %v, p99 %v, max %v",
		len(open), dialed.Round(time.Millisecond), failed, base/mib, top/mib, float64(growth)/mib, idleRSSBound/mib,
		lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	t.Logf("child stats: %+v", s)
	if growth > idleRSSBound {
		t.Errorf("RSS grew by %.1f MiB; want under %d MiB", float64(growth)/mib, idleRSSBound/mib)
	}
	limit := 50 * time.Millisecond
	if raceEnabled {
		limit = 500 * time.Millisecond
	}
	if lat[len(lat)-1] > limit {
		t.Errorf("slowest good call %v; want under %v", lat[len(lat)-1], limit)
	}
	if s.PendingRefused == 0 || s.PendingConns > 256 {
		t.Errorf("child stats %+v; want connections refused at the cap, at most 256 pending", s)
	}
	if s.RefusalsLogged > 2*10 { // 10 lines per host per 10 s
		t.Errorf("child logged %d refusals; want a few", s.RefusalsLogged)
	}

	// The strangers' handshakes time out (2 s); then a new node connects.
	late := newNode(t, Config{Name: "late@localhost", Listen: "127.0.0.1:0"})
	start = time.Now()
	for {
		_, err := late.Call(ctxT(t), echo, ping)
		if err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("a new node could not call for 30 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("a new node called %v after the flood's calls", time.Since(start).Round(time.Millisecond))
}

// A producer casting 1 KiB messages at 10,000 a second to a node stopped
// with SIGSTOP (the issue: RSS 21 -> 85 MB in 5 s, every cast nil) fills
// that node's queue to MaxPeerQueueBytes and then gets ErrOverloaded; two
// more seconds of casting as fast as it can add nothing to its memory, and
// a call fails at once. After SIGCONT the node reads again and calls work.
func TestCastToPausedNodeKeepsMemoryBounded(t *testing.T) {
	const bound = 8 * mib
	child, addr := startBoundsChild(t)
	a := newNode(t, Config{Name: "producer@localhost", Listen: "127.0.0.1:0", Limits: Limits{MaxPeerQueueBytes: bound}})
	echo := NamedPID(addr, "echo")
	if _, err := a.Call(ctxT(t), echo, wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	proc := child.Cmd.Process
	base := rss(t, os.Getpid())
	stop := make(chan struct{})
	peak := childtest.PeakRSS(os.Getpid(), stop)
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Signal(syscall.SIGCONT) }) // before the child is killed
	msg := wrapperspb.Bytes(make([]byte, 1<<10))

	start := time.Now()
	sent := 0
	var err error
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
paced:
	for {
		<-tick.C
		for range 10 { // 10,000 a second
			if err = a.Cast(echo, msg); err != nil {
				break paced
			}
			sent++
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("%d casts in a minute and no error", sent)
		}
	}
	full := time.Since(start)
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("cast to a paused node = %v; want ErrOverloaded", err)
	}
	var more, overloaded int
	for s := time.Now(); time.Since(s) < 2*time.Second; {
		switch err := a.Cast(echo, msg); {
		case err == nil:
			more++
		case errors.Is(err, ErrOverloaded):
			overloaded++
		default:
			t.Fatalf("cast = %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	callStart := time.Now()
	_, callErr := a.Call(ctx, echo, msg)
	callTook := time.Since(callStart)
	close(stop)
	top := <-peak
	st := a.Stats()
	growth := top - base
	t.Logf("%d casts (%.1f MiB) in %v, then ErrOverloaded; in 2 s more at full speed %d casts went, %d were refused; call: %v after %v",
		sent, float64(sent*len(msg.Value))/mib, full.Round(time.Millisecond), more, overloaded, callErr, callTook.Round(time.Microsecond))
	t.Logf("producer RSS %d MiB -> peak %d MiB (+%.1f MiB; MaxPeerQueueBytes %d MiB); stats %+v",
		base/mib, top/mib, float64(growth)/mib, bound/mib, st)
	// Liveness ticks may declare the paused node down meanwhile: then the
	// call fails with ErrNodeDown, as fast.
	if !errors.Is(callErr, ErrOverloaded) && !errors.Is(callErr, ErrNodeDown) {
		t.Errorf("call to the paused node = %v; want ErrOverloaded", callErr)
	}
	if callTook > time.Second {
		t.Errorf("the call took %v; want at once", callTook)
	}
	if st.QueuedBytes > bound {
		t.Errorf("%d bytes queued; want at most %d", st.QueuedBytes, bound)
	}
	limit := int64(bound + 64*mib)
	if raceEnabled {
		limit = 8*bound + 128*mib // the race detector's shadow of the queue
	}
	if growth > limit {
		t.Errorf("the producer's RSS grew by %.1f MiB; want under %d MiB", float64(growth)/mib, limit/mib)
	}

	if err := proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := a.Call(ctx, echo, wrapperspb.String("back"))
		cancel()
		if err == nil {
			break
		}
		if time.Since(resumed) > time.Minute {
			t.Fatalf("no call got through for a minute after SIGCONT: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("calls work again %v after SIGCONT", time.Since(resumed).Round(time.Millisecond))
}
