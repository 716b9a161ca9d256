package supervisor

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/spawnpb"
)

// FuzzTaskRun sends arbitrary bytes, decoded as a task request, to a task
// supervisor: every request is answered (a result or an error), and the
// supervisor keeps running tasks.
func FuzzTaskRun(f *testing.F) {
	args, _ := anypb.New(wrapperspb.String("x"))
	for _, r := range []*spawnpb.TaskRun{
		{Name: "upper", Args: args},
		{Name: "upper"},
		{Name: "fail", TimeoutNanos: 1},
		{Name: "nothing", Args: &anypb.Any{TypeUrl: "nonsense"}},
	} {
		b, _ := proto.Marshal(r)
		f.Add(b)
	}
	n, err := actor.Start(actor.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	funcs := testTasks(nil, nil)
	delete(funcs, "block")
	sup, err := StartTaskSupervisor(context.Background(), n, TaskSupervisorSpec{Funcs: funcs})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req spawnpb.TaskRun
		if proto.Unmarshal(data, &req) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := n.Call(ctx, sup, &req); err != nil && ctx.Err() != nil {
			t.Fatalf("request %v not answered: %v", &req, err)
		}
		if v, err := Run(ctx, n, sup, "upper", wrapperspb.String("a")); err != nil || v.(*wrapperspb.StringValue).GetValue() != "A" {
			t.Fatalf("supervisor broken after %v: %v %v", &req, v, err)
		}
	})
}
