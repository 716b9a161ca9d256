package actor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The log keeps the most recent forwardsPerNode calls per node and no
// more; taking it empties it, and a call logged after is kept anew.
func TestForwardLogBounded(t *testing.T) {
	var l forwardLog
	const total = 3*forwardsPerNode + 5
	for i := uint64(1); i <= total; i++ {
		l.add("c", replyTo{addr: "a", ref: i})
	}
	l.add("d", replyTo{addr: "a", ref: 1})
	got := l.take("c")
	if len(got) != forwardsPerNode {
		t.Fatalf("kept %d calls; want %d", len(got), forwardsPerNode)
	}
	seen := map[uint64]bool{}
	for _, rt := range got {
		if rt.ref <= total-forwardsPerNode-forwardShards || seen[rt.ref] {
			t.Fatalf("kept %d, an old or repeated call", rt.ref)
		}
		seen[rt.ref] = true
	}
	if again := l.take("c"); len(again) != 0 {
		t.Fatalf("taken twice: %d", len(again))
	}
	l.add("c", replyTo{addr: "a", ref: total + 1})
	if got := l.take("c"); len(got) != 1 || got[0].ref != total+1 {
		t.Fatalf("after the take: %v", got)
	}
	if got := l.take("d"); len(got) != 1 {
		t.Fatalf("another node's calls: %v", got)
	}
}

// Calls logged while the node's log is being taken are either in that
// take or kept for the next: none is lost.
func TestForwardLogConcurrentTake(t *testing.T) {
	var l forwardLog
	const writers, each = 4, 1000 // within a shard's capacity: nothing is overwritten
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				l.add("c", replyTo{addr: "a", ref: uint64(w*each + i + 1)})
			}
		}()
	}
	stop := make(chan struct{})
	taken := make(chan []replyTo)
	go func() {
		var all []replyTo
		for {
			select {
			case <-stop:
				taken <- all
				return
			default:
				all = append(all, l.take("c")...)
			}
		}
	}()
	wg.Wait()
	close(stop)
	all := append(<-taken, l.take("c")...)
	seen := map[uint64]int{}
	for _, rt := range all {
		seen[rt.ref]++
	}
	for ref := uint64(1); ref <= writers*each; ref++ {
		if seen[ref] != 1 {
			t.Fatalf("call %d taken %d times", ref, seen[ref])
		}
	}
}

// A call forwarded to a node that is killed (SIGKILL) is answered with a
// *NodeDownError naming that node, by the forwarder, at once: both for a
// caller on a third node, which never talked to the dead one, and for a
// caller on the forwarder.
func TestForwardedCallsFailWhenCalleeNodeKilled(t *testing.T) {
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	target, child := startChild(t)
	if _, err := b.Call(ctxT(t), target, wrapperspb.String("hello")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	for _, caller := range []*Node{a, b} {
		pend := caller.NewPending(ctx, b.Address(), false)
		defer pend.Release()
		if err := b.Forward(target, wrapperspb.String("block"), pend.ReplyTo()); err != nil {
			t.Fatal(err)
		}
		go func() {
			_, err := pend.Wait(ctx)
			errs <- err
		}()
	}
	// Whether the calls have reached the child or are still on their way
	// when it dies, b has them in its log.
	killed := time.Now()
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		err := recv(t, errs)
		took := time.Since(killed)
		t.Logf("answered %v after SIGKILL: %v", took, err)
		if !errors.Is(err, ErrNodeDown) || !strings.Contains(err.Error(), target.Address) || took > 10*time.Second {
			t.Fatalf("forwarded call = %v after %v; want ErrNodeDown naming %s, well before 30 s", err, took, target.Address)
		}
		if strings.Count(err.Error(), ErrNodeDown.Error()) != 1 {
			t.Fatalf("%q repeats itself", err)
		}
	}
}

// The cost Forward adds to a call it sends to another node: one add, from
// many goroutines at once as an exchange's connection readers do.
func BenchmarkForwardLogAdd(b *testing.B) {
	var l forwardLog
	var ref atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.add("127.0.0.1:4000", replyTo{addr: "127.0.0.1:4001", ref: ref.Add(1)})
		}
	})
}

// Forward logs only the calls that nobody else watches: not those to a
// local process, nor those whose caller is on the target's node, nor those
// of a Pending that watches the target's node itself.
func TestForwardLogsWhatNobodyWatches(t *testing.T) {
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	b := newNode(t, Config{Name: "b@localhost", Listen: "127.0.0.1:0"})
	c := newNode(t, Config{Name: "c@localhost", Listen: "127.0.0.1:0"})
	onA, onB := spawn(t, a, &fn{}), spawn(t, b, &fn{})
	logged := func(addr string) int { return len(a.forwards.take(addr)) }
	mine := a.NewPending(ctxT(t), b.Address(), false)
	defer mine.Release()
	for _, f := range []struct {
		to   *PID
		rt   ReplyTo
		want int
	}{
		{onA, NewReplyTo(c.Address(), 7), 0}, // local
		{onB, NewReplyTo(b.Address(), 7), 0}, // the caller is on b
		{onB, mine.ReplyTo(), 0},             // the caller watches b
		{onB, NewReplyTo(c.Address(), 7), 1}, // a third node's caller
		{onB, NewReplyTo(a.Address(), 8), 1}, // this node's, not watching b
	} {
		if err := a.Forward(f.to, wrapperspb.String("x"), f.rt); err != nil {
			t.Fatal(err)
		}
		if got := logged(b.Address()); got != f.want {
			t.Fatalf("forward to %s answered to %v: %d logged; want %d", FormatPID(f.to), f.rt, got, f.want)
		}
	}
}
