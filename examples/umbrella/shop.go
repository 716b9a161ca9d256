package main

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/supervisor"
)

// shopApp is an application: a one_for_one supervisor with two workers.
func shopApp() supervisor.Application {
	return supervisor.Application{
		Name: "shop",
		Start: func(ctx context.Context, n *actor.Node, _ supervisor.StartType) (*actor.PID, error) {
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy:  supervisor.OneForOne,
				Intensity: 2,
				Period:    10 * time.Second,
				Children: []supervisor.ChildSpec{
					supervisor.Worker("inventory", func() actor.Server { return &inventory{stock: 10} }, actor.WithName("inventory")),
					supervisor.Worker("orders", func() actor.Server { return &orders{} }, actor.WithName("orders")),
				},
			})
		},
	}
}

type placeOrder struct{ item string }
type take struct{}

// inventory hands out items from its stock.
type inventory struct {
	actor.BaseServer
	stock int
}

func (s *inventory) HandleCall(_ *actor.Process, msg any) (any, error) {
	if _, ok := msg.(take); ok && s.stock > 0 {
		s.stock--
		return s.stock, nil
	}
	return nil, fmt.Errorf("out of stock")
}

// orders places orders, taking items from inventory; a poison order makes
// it panic.
type orders struct {
	actor.BaseServer
	placed int
}

func (s *orders) HandleCall(p *actor.Process, msg any) (any, error) {
	o, ok := msg.(placeOrder)
	if !ok {
		return nil, actor.ErrUnhandled
	}
	if o.item == "poison" {
		panic("poison order")
	}
	left, err := p.Call(context.Background(), p.Node().Whereis("inventory"), take{})
	if err != nil {
		return nil, err
	}
	s.placed++
	return fmt.Sprintf("ok (orders placed by this worker: %d, stock left: %v)", s.placed, left), nil
}
