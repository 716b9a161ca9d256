package actor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
)

// Shouter answers every call with the message in capitals, after the
// greeting it was spawned with.
type Shouter struct {
	actor.BaseServer
	greeting string
}

func (s *Shouter) HandleCall(_ *actor.Process, msg any) (any, error) {
	return wrapperspb.String(s.greeting + strings.ToUpper(msg.(*wrapperspb.StringValue).GetValue())), nil
}

// A node allows "shouter" to be spawned by other nodes; another spawns
// one there, calls it, and finds that a name it did not allow is refused.
func ExampleNode_SpawnOn() {
	ctx := context.Background()
	worker, _ := actor.Start(actor.Config{Name: "worker@localhost", Listen: "127.0.0.1:0"})
	defer worker.Stop(ctx)
	client, _ := actor.Start(actor.Config{Name: "client@localhost", Listen: "127.0.0.1:0"})
	defer client.Stop(ctx)

	worker.AllowSpawn("shouter", func(args proto.Message) (actor.Server, error) {
		g, ok := args.(*wrapperspb.StringValue)
		if !ok {
			return nil, fmt.Errorf("shouter: want a greeting, got %T", args)
		}
		return &Shouter{greeting: g.GetValue()}, nil
	})

	pid, err := client.SpawnOn(ctx, worker.Address(), "shouter", wrapperspb.String("hey, "))
	if err != nil {
		panic(err)
	}
	reply, _ := client.Call(ctx, pid, wrapperspb.String("you"))
	fmt.Println(reply.(*wrapperspb.StringValue).GetValue())
	fmt.Println("runs on the worker:", pid.Address == worker.Address())

	_, err = client.SpawnOn(ctx, worker.Address(), "rm-rf", nil)
	fmt.Println(errors.Is(err, actor.ErrUnknownSpawn))
	_, err = client.SpawnOn(ctx, worker.Address(), "shouter", nil)
	fmt.Println(errors.Is(err, actor.ErrInit), err)
	// Output:
	// hey, YOU
	// runs on the worker: true
	// true
	// true actor: init failed: shouter: want a greeting, got <nil>
}
