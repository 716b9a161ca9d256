package patterns

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/childtest"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// cookieNode starts a node on loopback with cookie and tick time.
func cookieNode(t *testing.T, name, cookie string, tick time.Duration) *actor.Node {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0", Logger: quiet(), Cookie: cookie, TickTime: tick})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	return n
}

// impersonate plays a dialer, written from wire.proto alone: it opens a
// connection to addr, claims to be the node at claim, proves cookie, and
// returns the listener's Welcome (hanging up after it, or after the
// refusal of its Hello).
func impersonate(t *testing.T, addr, claim, cookie string) *wire.Welcome {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	send := func(m proto.Message) {
		b, _ := proto.Marshal(m)
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
		if _, err := c.Write(append(hdr[:], b...)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() []byte {
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, min(binary.BigEndian.Uint32(hdr[:]), 4096))
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	nd := make([]byte, 32)
	_, _ = rand.Read(nd)
	const node, inc = "impostor@localhost", 42
	const tick = 4_000_000 // µs
	send(&wire.Hello{Version: 6, Address: claim, Node: node, Nonce: nd, To: addr, Incarnation: inc, TickTimeUs: tick})
	first := recv()
	var wel wire.Welcome
	if proto.Unmarshal(first, &wel) == nil && wel.Refused != wire.Refusal_REFUSAL_NONE {
		return &wel
	}
	var ch wire.Challenge
	if err := proto.Unmarshal(first, &ch); err != nil {
		t.Fatal(err)
	}
	// HMAC-SHA256(cookie) over the role and the transcript, each part
	// length-prefixed (wire.proto).
	m := hmac.New(sha256.New, []byte(cookie))
	const clock = 7 // ns: the impostor's clock, said in the Proof
	var incs [40]byte
	binary.BigEndian.PutUint64(incs[:8], inc)
	binary.BigEndian.PutUint64(incs[8:], ch.Incarnation)
	binary.BigEndian.PutUint64(incs[16:], tick)
	binary.BigEndian.PutUint64(incs[24:], ch.TickTimeUs)
	binary.BigEndian.PutUint64(incs[32:], clock)
	for _, part := range [][]byte{[]byte("switchboard/6 dialer"), nd, ch.Nonce, []byte(claim), []byte(node),
		[]byte(ch.Node), []byte(addr), incs[:], {0}, nil, nil} {
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], uint32(len(part)))
		m.Write(size[:])
		m.Write(part)
	}
	send(&wire.Proof{Digest: m.Sum(nil), ClockNs: clock})
	if err := proto.Unmarshal(recv(), &wel); err != nil {
		t.Fatal(err)
	}
	return &wel
}

// calls makes n calls to ex from cl and counts the answers by controller.
func calls(t *testing.T, cl *Client, ex exchange.Address, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := cl.Call(ctx, ex, wrapperspb.String("hi"))
		cancel()
		if err != nil {
			got["error: "+err.Error()]++
			continue
		}
		got[str(v)]++
	}
	return got
}

// The controller node is another OS process. Impostors holding the cookie
// claim its address, in a burst, and hang up; others without the cookie
// try; a cookie holder of its own address sends frames forged as from the
// controller (downs of every monitor ref up to 500). None of it changes
// anything for the exchange: 100/100 calls before and after, its member
// in place, every attempt refused or dropped and counted.
func TestAcrossProcessesImpostorsChangeNothing(t *testing.T) {
	const cookie = "shared secret"
	b := cookieNode(t, "b@localhost", cookie, 0)
	startExchange(t, b, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	ex := exchange.At(b.Address(), "x")
	startChildController(t, b.Address(), "x", "SB_COOKIE="+cookie)
	waitMembers(t, b, ex, 1)
	info, err := exchange.Inspect(ctxT(t), b, ex)
	if err != nil {
		t.Fatal(err)
	}
	ctrlPID := info.Members[0].PID
	cl := NewClient(b)
	if got := calls(t, cl, ex, 100); got["child"] != 100 {
		t.Fatalf("before: %v", got)
	}

	const burst = 20
	for range burst {
		if wel := impersonate(t, b.Address(), ctrlPID.Address, cookie); wel.Refused != wire.Refusal_REFUSAL_UNCONFIRMED {
			t.Fatalf("impostor with the cookie: %v; want REFUSAL_UNCONFIRMED", wel)
		}
		if wel := impersonate(t, b.Address(), ctrlPID.Address, "a guess"); wel.Refused != wire.Refusal_REFUSAL_COOKIE {
			t.Fatalf("impostor without the cookie: %v; want REFUSAL_COOKIE", wel)
		}
	}
	// A cookie holder speaking for itself, with frames that name the
	// controller as their sender.
	m, err := transport.Listen(transport.Config{Listen: "127.0.0.1:0", Cookie: cookie, Node: "m@localhost",
		Handler: func(string, *wire.Frame) {}, PeerDown: func(string, error) {}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	exPID := ex.PID(b)
	const forged = 500
	for ref := range uint64(forged) {
		f := &wire.Frame{From: &wire.Pid{Address: ctrlPID.Address, Id: ctrlPID.Id}, To: exPID.Id,
			Body: &wire.Frame_Down{Down: &wire.Down{Ref: ref + 1, Reason: &wire.Error{Code: wire.Code_CODE_KILLED}}}}
		if err := m.Send(b.Address(), f); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.Stats().Spoofed < forged {
		if time.Now().After(deadline) {
			t.Fatalf("spoofed = %d; want %d", b.Stats().Spoofed, forged)
		}
		time.Sleep(5 * time.Millisecond) // a counter of frames in flight: nothing to await
	}

	if got := calls(t, cl, ex, 100); got["child"] != 100 {
		t.Fatalf("after the impostors: %v", got)
	}
	waitMembers(t, b, ex, 1)
	s := b.Stats()
	t.Logf("stats after %d impostors with the cookie, %d without, %d forged frames: %+v", burst, burst, forged, s)
	if s.Unconfirmed != burst || s.Refused < 2*burst || s.Spoofed != forged {
		t.Fatalf("stats %+v; want %d unconfirmed, %d refused, %d spoofed", s, burst, 2*burst, forged)
	}
}

// The controller node, another OS process, stopped with SIGSTOP: the
// exchange's node declares it down within the tick bound and drops its
// controller, calls go to the one left; after SIGCONT the controller is
// back in the exchange and answers again.
func TestAcrossProcessesStoppedControllerNode(t *testing.T) {
	const tick = time.Second
	b := cookieNode(t, "b@localhost", "", tick)
	startExchange(t, b, exchange.Spec{Name: "x", Strategy: exchange.RoundRobin})
	ex := exchange.At(b.Address(), "x")
	ctrl(t, b, ex, "local", "", "")
	child := startChildController(t, b.Address(), "x", "SB_TICK="+tick.String())
	waitMembers(t, b, ex, 2)
	cl := NewClient(b)
	if got := calls(t, cl, ex, 10); got["child"] != 5 || got["local"] != 5 {
		t.Fatalf("before: %v", got)
	}
	stop(t, child)
	stopped := time.Now()
	waitMembers(t, b, ex, 1)
	took := time.Since(stopped)
	t.Logf("controller dropped %v after SIGSTOP (tick time %v, bound %v)", took, tick, tick+tick/4)
	if took > 3*tick {
		t.Fatalf("dropped after %v; want within 3 × %v", took, tick)
	}
	if got := calls(t, cl, ex, 20); got["local"] != 20 {
		t.Fatalf("while stopped: %v", got)
	}
	if err := child.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	waitMembers(t, b, ex, 2)
	t.Logf("controller back %v after SIGCONT", time.Since(resumed))
	if got := calls(t, cl, ex, 10); got["child"] != 5 || got["local"] != 5 {
		t.Fatalf("after SIGCONT: %v", got)
	}
}

// stop stops c (SIGSTOP, awaited) and continues it at cleanup, before
// childtest's kill.
func stop(t *testing.T, c *childtest.Child) {
	t.Helper()
	c.Freeze(t)
}
