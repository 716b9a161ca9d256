package transport

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// Tests against a transport in a process of its own, so that its memory
// (RSS) is its own, fed by raw connections that have passed the handshake.

// childEnv holds the child's Limits as JSON; set, the test binary runs as a
// child (see runChildIfAsked).
const (
	childEnv    = "SWITCHBOARD_TRANSPORT_CHILD"
	childCookie = "child's cookie"
)

// runChildIfAsked runs a transport with the Limits in childEnv when the
// test binary is started as a child, and reports whether it did. Its
// handler unpacks each info's payload, as actor does (the message is a copy
// of the frame's bytes), and says "FRAME to size"; a peer down is "DOWN
// addr error". When stdin closes it says "STATS {json}" and exits.
func runChildIfAsked() bool {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return false
	}
	var lim Limits
	if err := json.Unmarshal([]byte(spec), &lim); err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	tr, err := Listen(Config{
		Listen: "127.0.0.1:0", Node: "child", Cookie: childCookie, Limits: lim,
		Handler: func(_ string, f *wire.Frame) {
			size := 0
			if p := f.GetInfo().GetPayload(); p != nil {
				m, err := wire.UnpackAny(p)
				if err != nil {
					fmt.Println("ERR", err)
					return
				}
				size = proto.Size(m)
			}
			fmt.Println("FRAME", f.To, size)
		},
		PeerDown: func(addr string, err error) { fmt.Println("DOWN", addr, err) },
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("READY", tr.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	b, _ := json.Marshal(tr.Stats())
	fmt.Println("STATS", string(b))
	_ = tr.Close()
	return true
}

// startChild runs a child transport with lim, and env added to its
// environment, and returns it and its address.
func startChild(t *testing.T, lim Limits, env ...string) (*childtest.Child, string) {
	t.Helper()
	spec, err := json.Marshal(lim)
	if err != nil {
		t.Fatal(err)
	}
	c := childtest.Start(t, "transport", append(env, childEnv+"="+string(spec))...)
	return c, strings.TrimPrefix(c.Expect(t, 30*time.Second, "READY "), "READY ")
}

// childStats stops the child and returns its last counters.
func childStats(t *testing.T, c *childtest.Child) Stats {
	t.Helper()
	c.CloseStdin()
	var s Stats
	if err := json.Unmarshal([]byte(strings.TrimPrefix(c.Expect(t, 30*time.Second, "STATS "), "STATS ")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

const mib = 1 << 20

// The measure: eight 60 MiB frames at once took a node from 39 to
// 520 MB (here, before the limits: +1.1 to 1.3 GiB, and +720 to 900 MiB
// with GOMEMLIMIT=320MiB). Under the default MaxInflightBytes (256 MiB;
// each frame counts twice its size) two are read at once and the others
// wait. The bound is on live memory: the collector lets the heap grow to
// twice that (GOGC), and with a memory limit above it the heap stays near
// the limit, overshooting by about a frame (the collector's lag on frames
// just handled); without the bound on live memory a limit cannot hold.
// Under the race detector its shadow memory comes on top and is not
// checked.
func TestConcurrentLargeFramesStayUnderInflightBound(t *testing.T) {
	const frames, size = 8, 60 * mib
	lag := int64(inflightCost(64 * mib)) // one frame of the default MaxFrameSize
	const headroom = 64 * mib            // GOMEMLIMIT above MaxInflightBytes, for the rest of the heap
	v, err := proto.Marshal(wrapperspb.Bytes(make([]byte, size)))
	if err != nil {
		t.Fatal(err)
	}
	frame, err := marshalFrame(&wire.Frame{From: &wire.Pid{Address: "raw", Id: "1"}, To: "x",
		Body: &wire.Frame_Info{Info: &wire.Payload{Payload: &anypb.Any{TypeUrl: "type.googleapis.com/google.protobuf.BytesValue", Value: v}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("FRAME x %d", len(v))
	v = nil
	for _, tc := range []struct {
		name     string
		memLimit string // the child's GOMEMLIMIT
		bound    int64  // of its RSS growth
	}{
		{"GOMEMLIMIT", fmt.Sprintf("%dMiB", (DefaultMaxInflightBytes+headroom)/mib), DefaultMaxInflightBytes + headroom + lag},
		{"no memory limit", "", 2 * (DefaultMaxInflightBytes + lag)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{}
			if tc.memLimit != "" {
				env = append(env, "GOMEMLIMIT="+tc.memLimit)
			}
			// The default limits, but time enough for the frames at the back
			// on a loaded machine: this test is about memory.
			child, addr := startChild(t, Limits{FrameTimeout: 5 * time.Minute}, env...)
			conns := make([]net.Conn, frames)
			for i := range conns {
				conns[i] = rawHandshake(t, addr, dialer(t, childCookie))
			}
			base, err := child.RSS()
			if err != nil {
				t.Skipf("cannot read the child's RSS: %v", err)
			}
			stop := make(chan struct{})
			peak := childtest.PeakRSS(child.Cmd.Process.Pid, stop)
			start := time.Now()
			for _, c := range conns {
				go func() {
					_ = c.SetWriteDeadline(time.Now().Add(5 * time.Minute))
					_, _ = c.Write(frame)
				}()
			}
			for range frames {
				if l := child.Expect(t, 5*time.Minute, "FRAME "); l != want {
					t.Fatalf("child said %q; want %q", l, want)
				}
			}
			took := time.Since(start)
			close(stop)
			top := <-peak
			s := childStats(t, child)
			growth := top - base
			t.Logf("%d frames of %d MiB at once in %v, GOMEMLIMIT %q: child RSS %d MiB -> peak %d MiB (+%d MiB; bound %d MiB, MaxInflightBytes %d MiB); %d readers waited for room",
				frames, size/mib, took.Round(time.Millisecond), tc.memLimit, base/mib, top/mib, growth/mib, tc.bound/mib, DefaultMaxInflightBytes/mib, s.InflightWaits)
			if s.InflightWaits == 0 {
				t.Error("no reader waited for room")
			}
			if s.SlowFrames != 0 || s.BadFrames != 0 || s.InflightBytes != 0 {
				t.Errorf("stats %+v; want no slow or bad frame and no room held", s)
			}
			if raceEnabled {
				return // the race detector's shadow memory is not the node's
			}
			if growth > tc.bound {
				t.Errorf("RSS grew by %d MiB; want under %d MiB", growth/mib, tc.bound/mib)
			}
		})
	}
}

// A slowloris peer, who sends a frame's length prefix and then a byte every
// 100 ms, is cut at FrameTimeout (1 s here) from the prefix.
func TestSlowlorisIsCutAtFrameTimeout(t *testing.T) {
	const timeout = time.Second
	child, addr := startChild(t, Limits{FrameTimeout: timeout})
	c := rawHandshake(t, addr, dialer(t, childCookie))
	start := time.Now()
	if _, err := c.Write(frameHeader(mib)); err != nil {
		t.Fatal(err)
	}
	cut := make(chan time.Duration, 1)
	go func() {
		closedSoon(c, time.Minute)
		cut <- time.Since(start)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var took time.Duration
trickle:
	for {
		select {
		case took = <-cut:
			break trickle
		case <-tick.C:
			_, _ = c.Write([]byte{0})
		}
	}
	t.Logf("slowloris cut after %v (FrameTimeout %v)", took.Round(time.Millisecond), timeout)
	if l := child.Expect(t, 30*time.Second, "DOWN "); !strings.Contains(l, ErrFrameTimeout.Error()) {
		t.Fatalf("child said %q", l)
	}
	if took < timeout || took > timeout+5*time.Second {
		t.Fatalf("cut after %v; want %v", took, timeout)
	}
	if s := childStats(t, child); s.SlowFrames != 1 {
		t.Fatalf("stats %+v; want 1 slow frame", s)
	}
}
