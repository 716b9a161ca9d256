package tasks

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// FuzzAsTasks: any bytes a worker's node receives as TaskDeliveries
// decode to tasks and undecodable deliveries, never a panic; every
// undecodable one is exchange.ErrBadRequest, and none is lost.
func FuzzAsTasks(f *testing.F) {
	p, _ := anypb.New(wrapperspb.String("job"))
	good, _ := proto.Marshal(&taskspb.TaskDeliveries{Queue: "q", Tasks: []*taskspb.TaskDelivery{
		{Tag: 1, Id: 1, Payload: p, Key: "k"},
		{Tag: 2, Id: 2},
		{Tag: 3, Id: 3, Payload: &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type"}},
		{Tag: 4, Id: 4, Payload: &anypb.Any{TypeUrl: p.GetTypeUrl(), Value: []byte{0xff}}},
	}})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0x12, 0x02, 0x2a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m taskspb.TaskDeliveries
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		_, tasks, bad, ok := AsTasks(&m)
		if !ok {
			t.Fatal("TaskDeliveries not recognised")
		}
		if len(tasks)+len(bad) != len(m.GetTasks()) {
			t.Fatalf("%d deliveries -> %d tasks + %d bad", len(m.GetTasks()), len(tasks), len(bad))
		}
		for _, u := range bad {
			if !errors.Is(u.Err, exchange.ErrBadRequest) {
				t.Fatalf("untyped error %v", u.Err)
			}
		}
	})
}
