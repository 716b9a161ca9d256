package actor

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// A frame whose sender names another node than the connection it came on
// is dropped and counted: a connection cannot forge another node's exits,
// monitors or links. A call's reply_address may name another node (a
// forwarded call is answered to its client), and replies name no sender.
func TestFramesSpeakOnlyForTheirConnection(t *testing.T) {
	n := newNode(t, Config{Logger: slog.New(slog.DiscardHandler)})
	infos := make(chan any, 8)
	target := spawn(t, n, &fn{infos: infos}, WithTrapExit())
	forged := []*wire.Frame{
		{From: &wire.Pid{Address: "peer:2", Id: "$1"}, To: target.Id, Body: &wire.Frame_Exit{Exit: &wire.Exit{Reason: &wire.Error{Code: wire.Code_CODE_KILL}}}},
		{From: &wire.Pid{Address: "peer:2", Id: "$1"}, To: target.Id, Body: &wire.Frame_Exit{Exit: &wire.Exit{Reason: &wire.Error{Code: wire.Code_CODE_SHUTDOWN}}}},
		{From: &wire.Pid{Address: "peer:2", Id: "$1"}, To: target.Id, Body: &wire.Frame_Link{Link: &wire.Link{}}},
		{From: &wire.Pid{Address: "peer:2", Id: "$1"}, To: target.Id, Body: &wire.Frame_Down{Down: &wire.Down{Ref: 1}}},
		{From: &wire.Pid{Address: n.Address(), Id: "$1"}, To: target.Id, Body: &wire.Frame_Exit{Exit: &wire.Exit{Reason: &wire.Error{Code: wire.Code_CODE_KILL}}}},
	}
	for _, f := range forged {
		n.receiveFrame("peer:1", f)
	}
	if got := n.Stats().Spoofed; got != uint64(len(forged)) {
		t.Fatalf("spoofed = %d; want %d", got, len(forged))
	}
	if _, err := n.Call(ctxT(t), target, 1); err != nil {
		t.Fatalf("the target after forged frames: %v", err)
	}
	select {
	case m := <-infos:
		t.Fatalf("a forged frame reached the target: %#v", m)
	default:
	}
	// The connection's own node speaks: its exit signal arrives.
	n.receiveFrame("peer:1", &wire.Frame{From: &wire.Pid{Address: "peer:1", Id: "$1"}, To: target.Id,
		Body: &wire.Frame_Exit{Exit: &wire.Exit{Reason: &wire.Error{Code: wire.Code_CODE_SHUTDOWN}}}})
	if e := recvInfo[Exit](t, infos); !errors.Is(e.Reason, ErrShutdown) || e.From.Address != "peer:1" {
		t.Fatalf("exit = %+v", e)
	}
	// A reply names no sender; a call may have its reply go elsewhere.
	pend := n.NewPending(ctxT(t), "peer:3", false)
	defer pend.Release()
	n.receiveFrame("peer:1", &wire.Frame{Body: &wire.Frame_Reply{Reply: &wire.Reply{Ref: pend.ReplyTo().Ref()}}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := pend.Wait(ctx); err != nil {
		t.Fatalf("reply from another connection than the callee's: %v", err)
	}
	if got := n.Stats().Spoofed; got != uint64(len(forged)) {
		t.Fatalf("spoofed = %d after legitimate frames", got)
	}
}

// Process ids count from the node's start time, so two lives of a node
// at one address never share one.
func TestProcessIDsOfTwoLivesDiffer(t *testing.T) {
	first := newNode(t, Config{})
	p1 := spawn(t, first, &fn{})
	_ = first.Stop(ctxT(t))
	second := newNode(t, Config{})
	p2 := spawn(t, second, &fn{})
	if p1.Id == p2.Id {
		t.Fatalf("both lives spawned %s", p1.Id)
	}
}
