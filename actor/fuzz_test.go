package actor

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/spawnpb"
	"github.com/switchboard-go/switchboard/internal/wire"
)

// FuzzFrame feeds arbitrary bytes, decoded as a frame, to a node's router
// (spawn requests included): it must never panic, and the node must keep
// answering calls.
func FuzzFrame(f *testing.F) {
	payload, _ := anypb.New(wrapperspb.String("x"))
	seeds := []*wire.Frame{
		{From: &wire.Pid{Address: "peer:1", Id: "$1"}, To: "$1", Body: &wire.Frame_Call{Call: &wire.Call{Ref: 1, Payload: payload}}},
		{Body: &wire.Frame_Reply{Reply: &wire.Reply{Ref: 7, Payload: payload}}},
		{From: &wire.Pid{Address: "peer:1", Id: "$2"}, To: "$1", Body: &wire.Frame_Exit{Exit: &wire.Exit{Reason: &wire.Error{Code: wire.Code_CODE_KILL}}}},
		{From: &wire.Pid{Address: "peer:1", Id: "$2"}, To: "$1", Body: &wire.Frame_Monitor{Monitor: &wire.Monitor{Ref: 3}}},
		{From: &wire.Pid{Address: "peer:1", Id: "$2"}, To: "$1", Body: &wire.Frame_Info{Info: &wire.Payload{Payload: &anypb.Any{TypeUrl: "nonsense"}}}},
	}
	args, _ := anypb.New(wrapperspb.String("x"))
	spawnReq, _ := anypb.New(&spawnpb.SpawnRequest{Name: "echo", Args: args, Link: true, MonitorRef: 9, TimeoutNanos: int64(time.Second)})
	seeds = append(seeds,
		&wire.Frame{From: &wire.Pid{Address: "peer:1", Id: "$2"}, To: spawnID, Body: &wire.Frame_Call{Call: &wire.Call{Ref: 2, Payload: spawnReq}}},
		&wire.Frame{From: &wire.Pid{Address: "peer:1", Id: "$2"}, To: spawnID, Body: &wire.Frame_Call{Call: &wire.Call{Ref: 3, Payload: payload}}})
	// inspection requests (InspectProcess, what inspect's NodeInspect
	// rides on), well formed and with a body that does not decode
	inspectReq, _ := anypb.New(&wire.InspectProcess{})
	seeds = append(seeds,
		&wire.Frame{From: &wire.Pid{Address: "peer:1", Id: "$2"}, To: spawnID, Body: &wire.Frame_Call{Call: &wire.Call{Ref: 4, Payload: inspectReq}}},
		&wire.Frame{From: &wire.Pid{Address: "peer:1", Id: "$2"}, To: spawnID, Body: &wire.Frame_Call{Call: &wire.Call{Ref: 5, Payload: &anypb.Any{TypeUrl: inspectReq.GetTypeUrl(), Value: []byte{0xff, 0x01}}}}})
	for _, s := range seeds {
		b, _ := proto.Marshal(s)
		f.Add(b)
	}
	n, err := Start(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	pid, err := n.Spawn(ctxT(f), &fn{})
	if err != nil {
		f.Fatal(err)
	}
	if err := n.AllowSpawn("echo", echoFactory(nil)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr wire.Frame
		if proto.Unmarshal(data, &fr) != nil {
			return
		}
		if fr.To == pid.Id { // keep the probe process alive
			fr.To = "other"
		}
		from := "peer:1" // the connection's address: the sender's, as the transport confirmed it
		if a := fr.GetFrom().GetAddress(); a != "" {
			from = a
		}
		n.receiveFrame(from, &fr)
		if v, err := n.Call(ctxT(t), pid, 1); err != nil || v != 1 {
			t.Fatalf("node broken after frame %v: %v %v", &fr, v, err)
		}
	})
}
