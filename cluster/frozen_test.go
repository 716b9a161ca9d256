package cluster_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// On the embedded provider, a member stopped with SIGSTOP (another OS
// process, its connections open) leaves the membership within the tick
// bound: the ticks of its connections stop, the node is declared down,
// and with it the cluster process that the others monitor. After SIGCONT
// it greets its seed again and is a member again, and it saw the others
// go and come back too.
func TestEmbeddedStoppedMemberLeavesAndComesBack(t *testing.T) {
	const tick = time.Second
	n, err := actor.Start(actor.Config{Name: "obs@test", Listen: "127.0.0.1:0", Logger: quiet(), TickTime: tick})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	obs := join(t, n, cluster.Embedded(cluster.EmbeddedConfig{Interval: 100 * time.Millisecond}))
	a := startChild(t, "a", []string{"SB_SEEDS=" + n.Address(), "SB_CONSUL=", "SB_TICK=" + tick.String()})
	obs.awaitUp(t, 10*time.Second, "a@test")
	a.Expect(t, 10*time.Second, "UP obs")

	t.Cleanup(func() { _ = a.Cmd.Process.Signal(syscall.SIGCONT) }) // before childtest's kill
	if err := a.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	obs.awaitDown(t, 10*tick, "a@test")
	took := time.Since(stopped)
	t.Logf("stopped member left the membership %v after SIGSTOP (tick time %v, bound %v)", took, tick, tick+tick/4)
	if took > 3*tick {
		t.Fatalf("left after %v; want within 3 × %v", took, tick)
	}

	if err := a.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	a.Expect(t, 10*time.Second, "DOWN obs")
	obs.awaitUp(t, 10*time.Second, "a@test")
	t.Logf("member again %v after SIGCONT", time.Since(resumed))
	a.Expect(t, 10*time.Second, "UP obs")
}
