package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/supervisor"
)

// A node runs a task supervisor named "tasks" with one function; another
// node runs it there and awaits the result, as Elixir's
// Task.Supervisor.async({sup, node}, fun) and Task.await.
func ExampleAsync() {
	ctx := context.Background()
	worker, _ := actor.Start(actor.Config{Name: "worker@localhost", Listen: "127.0.0.1:0"})
	defer worker.Stop(ctx)
	client, _ := actor.Start(actor.Config{Name: "client@localhost", Listen: "127.0.0.1:0"})
	defer client.Stop(ctx)

	words := func(ctx context.Context, args proto.Message) (proto.Message, error) {
		text, ok := args.(*wrapperspb.StringValue)
		if !ok {
			return nil, errors.New("words: want a text")
		}
		return wrapperspb.Int64(int64(len(strings.Fields(text.GetValue())))), nil
	}
	_, err := supervisor.StartTaskSupervisor(ctx, worker, supervisor.TaskSupervisorSpec{
		Funcs: map[string]supervisor.TaskFunc{"words": words},
	}, actor.WithName("tasks"))
	if err != nil {
		panic(err)
	}

	tasks := actor.NamedPID(worker.Address(), "tasks") // {tasks, worker@localhost}
	task, _ := supervisor.Async(ctx, client, tasks, "words", wrapperspb.String("to be or not to be"))
	n, err := task.Await(ctx)
	fmt.Println(n.(*wrapperspb.Int64Value).GetValue(), err)

	_, err = supervisor.Run(ctx, client, tasks, "words", nil)
	fmt.Println(errors.Is(err, supervisor.ErrTaskFailed), err)
	_, err = supervisor.Run(ctx, client, tasks, "sum", nil)
	fmt.Println(errors.Is(err, supervisor.ErrUnknownTask))
	// Output:
	// 6 <nil>
	// true supervisor: task failed: words: words: want a text
	// true
}
