package release_test

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Greeting is the key of the application "greeter".
var Greeting = release.NewKey("greeting", "hello", "what the greeter says")

// Greeter answers on the exchange "greet", which the release file
// declares, with the greeting its environment holds.
var Greeter = release.App{
	Keys: []release.AnyKey{Greeting},
	Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
		greeting := Greeting.Get(env)
		ctrl := patterns.ControllerSpec("greeter", func() *patterns.Controller {
			return patterns.NewController(exchange.Named("greet"), func(_ context.Context, req *exchange.Request) (any, error) {
				return wrapperspb.String(greeting + ", " + req.Msg.(*wrapperspb.StringValue).GetValue()), nil
			})
		})
		return supervisor.Start(ctx, n, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{ctrl}})
	},
}

func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := release.Parse("greeter.toml", []byte(`
[node]
name = "greeter@localhost"

[exchanges.greet]
kind = "request"
strategy = "round_robin"

[apps.greeter.env]
greeting = "good morning"
`), release.Apps{"greeter": Greeter}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	run, err := r.Start(ctx, release.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer run.Stop(ctx)
	for _, a := range run.Applications().Running() {
		fmt.Println("running:", a.Name)
	}
	v, err := patterns.NewClient(run.Node()).Call(ctx, exchange.Named("greet"), wrapperspb.String("Ada"))
	fmt.Println(v.(*wrapperspb.StringValue).GetValue(), err)
	// Output:
	// running: switchboard:exchanges
	// running: greeter
	// good morning, Ada <nil>
}

// A bad release file is an error that names the file, the line and the key.
func ExampleLoad_errors() {
	_, err := release.Parse("greeter.toml", []byte(`
[node]
name = "greeter@localhost"

[apps.greeter.env]
greting = "hi"
`), release.Apps{"greeter": Greeter}, nil)
	fmt.Println(err)
	// Output: greeter.toml:6: apps.greeter.env.greting: unknown key: known keys: greeting
}
