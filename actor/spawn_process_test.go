package actor

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/childtest"
)

// Remote spawn against nodes in OS processes of their own.

// spawnChildEnv makes the test binary run as a node that allows remote
// spawns (see runSpawnChild).
const spawnChildEnv = "SWITCHBOARD_ACTOR_SPAWN_CHILD"

// runSpawnChild is a node in its own process that allows "echo" (as
// allowEcho; its processes print every Exit they trap as "EXIT reason"),
// "badinit" (Init fails with "no disk") and "only" (allowed for the node
// at 127.0.0.1:1 only); it prints its address and lives until its stdin
// closes.
func runSpawnChild() {
	n, err := Start(Config{Name: "spawner@localhost", Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	infos := make(chan any, 16)
	go func() {
		for m := range infos {
			if e, ok := m.(Exit); ok {
				fmt.Println("EXIT", e.Reason)
			}
		}
	}()
	_ = n.AllowSpawn("echo", echoFactory(infos))
	_ = n.AllowSpawn("badinit", func(proto.Message) (Server, error) {
		return &fn{init: func(*Process) error { return errors.New("no disk") }}, nil
	})
	_ = n.AllowSpawn("only", func(proto.Message) (Server, error) { return &fn{}, nil }, "127.0.0.1:1")
	fmt.Println("READY", n.Address())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func startSpawnChild(t *testing.T) (*childtest.Child, string) {
	t.Helper()
	c := childtest.Start(t, "spawner", spawnChildEnv+"=1")
	return c, strings.TrimPrefix(c.Expect(t, 30*time.Second, "READY "), "READY ")
}

// spawnResult is what a spawner process (see newSpawner) answers.
type spawnResult struct {
	pid *PID
	ref Ref
	err error
}

// newSpawner is a process of n, trapping exits, that spawns on demand
// ("link:<name>", "monitor:<name>" at address) and quits on "quit:<reason>";
// its HandleInfo messages go to infos.
func newSpawner(t *testing.T, n *Node, address string, infos chan any) *PID {
	return spawn(t, n, &fn{infos: infos, call: func(p *Process, msg any) (any, error) {
		var r spawnResult
		kind, arg, _ := strings.Cut(msg.(string), ":")
		switch kind {
		case "link":
			r.pid, r.err = p.SpawnLinkOn(ctxT(t), address, arg, nil, WithTrapExit())
		case "monitor":
			r.pid, r.ref, r.err = p.SpawnMonitorOn(ctxT(t), address, arg, nil)
		case "quit":
			p.Stop(errors.New(arg))
		}
		return r, nil
	}}, WithTrapExit())
}

func spawnVia(t *testing.T, n *Node, spawner *PID, msg string) spawnResult {
	t.Helper()
	v, err := n.Call(ctxT(t), spawner, msg)
	if err != nil {
		t.Fatal(err)
	}
	r := v.(spawnResult)
	if r.err != nil {
		t.Fatalf("%s: %v", msg, r.err)
	}
	return r
}

// Spawn on a node in another OS process: the process runs there, under
// the name asked for; unknown, refused and failing names are typed
// errors; a linked process's exit reaches its linker with its reason and
// back, a monitored one's reaches its monitor.
func TestSpawnOnChildProcess(t *testing.T) {
	child, addr := startSpawnChild(t)
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})

	pid, err := a.SpawnOn(ctxT(t), addr, "echo", wrapperspb.String("child: "), WithName("e"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.Call(ctxT(t), NamedPID(addr, "e"), wrapperspb.String("hi"))
	if err != nil || v.(*wrapperspb.StringValue).GetValue() != "child: hi" || pid.Address != addr {
		t.Fatalf("call of the spawned process = %v, %v (pid %v)", v, err, pid)
	}
	for _, c := range []struct {
		name string
		want error
		text string
	}{{"nothing", ErrUnknownSpawn, "nothing"}, {"only", ErrSpawnRefused, a.Address()}, {"badinit", ErrInit, "no disk"}} {
		_, err := a.SpawnOn(ctxT(t), addr, c.name, nil)
		t.Logf("SpawnOn %q: %v", c.name, err)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("SpawnOn %q = %v; want %v with %q", c.name, err, c.want, c.text)
		}
	}

	infos := make(chan any, 16)
	spawner := newSpawner(t, a, addr, infos)
	l := spawnVia(t, a, spawner, "link:echo")
	m := spawnVia(t, a, spawner, "monitor:echo")
	for _, pid := range []*PID{l.pid, m.pid} {
		if _, err := a.Call(ctxT(t), pid, wrapperspb.String("stop:boom")); err != nil {
			t.Fatal(err)
		}
	}
	d, e := recvDownAndExit(t, infos)
	if !e.From.Equal(l.pid) || e.Reason.Error() != "boom" || d.Ref != m.ref || !d.PID.Equal(m.pid) || d.Reason.Error() != "boom" {
		t.Fatalf("exit %+v, down %+v; want boom from %v and %v", e, d, l.pid, m.pid)
	}
	// And back: the linker's exit reaches the process on the child.
	spawnVia(t, a, spawner, "link:echo")
	if _, err := a.Call(ctxT(t), spawner, "quit:linker quits"); err != nil {
		t.Fatal(err)
	}
	if got := child.Expect(t, 10*time.Second, "EXIT "); got != "EXIT linker quits" {
		t.Fatalf("child said %q; want EXIT linker quits", got)
	}
}

// A node killed with SIGKILL: the processes spawned there linked and
// monitored end for their caller with ErrNodeDown, as soon as its node
// sees the connection break, and a spawn sent to it fails the same way.
func TestSpawnOnChildKilled(t *testing.T) {
	child, addr := startSpawnChild(t)
	a := newNode(t, Config{Name: "a@localhost", Listen: "127.0.0.1:0"})
	infos := make(chan any, 16)
	spawner := newSpawner(t, a, addr, infos)
	l := spawnVia(t, a, spawner, "link:echo")
	m := spawnVia(t, a, spawner, "monitor:echo")
	killed := time.Now()
	if err := child.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d, e := recvDownAndExit(t, infos)
	took := time.Since(killed)
	t.Logf("Exit and Down with ErrNodeDown %v after SIGKILL", took.Round(time.Millisecond))
	if !errors.Is(e.Reason, ErrNodeDown) || !e.From.Equal(l.pid) || !errors.Is(d.Reason, ErrNodeDown) || !d.PID.Equal(m.pid) {
		t.Fatalf("exit %+v, down %+v; want ErrNodeDown from %v and %v", e, d, l.pid, m.pid)
	}
	if took > 5*time.Second {
		t.Errorf("the node-down took %v; want well under TickTime's bound", took)
	}
	start := time.Now()
	if _, err := a.SpawnOn(ctxT(t), addr, "echo", nil); !errors.Is(err, ErrNodeDown) {
		t.Fatalf("SpawnOn the dead node = %v; want ErrNodeDown", err)
	}
	t.Logf("SpawnOn the dead node failed after %v", time.Since(start).Round(time.Millisecond))
}
