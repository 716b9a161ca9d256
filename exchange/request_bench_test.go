package exchange_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// pongServer is the least a controller can be: it joins and answers pong.
type pongServer struct {
	actor.BaseServer
	m      exchange.Membership
	joined chan struct{}
}

func (s *pongServer) Init(p *actor.Process) error { s.m.Join(p); return nil }

func (s *pongServer) HandleInfo(p *actor.Process, msg any) {
	if _, ok := s.m.Handle(p, msg).(*exchange.Leader); ok {
		select {
		case s.joined <- struct{}{}:
		default:
		}
	}
}

func (s *pongServer) HandleCall(p *actor.Process, msg any) (any, error) {
	if _, ok, err := exchange.AsRequest(msg, 0); ok {
		return wrapperspb.String("pong"), err
	}
	return nil, actor.ErrUnhandled
}

// BenchmarkRequest measures one request through a RoundRobin exchange to
// one controller and back, with the package's own API (no patterns.Client):
// client, exchange and controller in one node, or the client on another
// node over loopback TCP (the exchange's direct path routes it). keyed
// sends each request with an idempotency key of its own: through the
// exchange's goroutine and back through it (a run each, no duplicate).
//
//	go test -run '^$' -bench Request -benchtime 20000x ./exchange
func BenchmarkRequest(b *testing.B) {
	for _, remote := range []bool{false, true} {
		for _, keyed := range []bool{false, true} {
			name := fmt.Sprintf("remote=%v/keyed=%v", remote, keyed)
			b.Run(name, func(b *testing.B) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				server := benchNode(b, "server@localhost")
				if _, err := exchange.Start(ctx, server, exchange.Spec{Name: "ping", Strategy: exchange.RoundRobin}); err != nil {
					b.Fatal(err)
				}
				ctl := &pongServer{m: exchange.Membership{Exchange: exchange.Named("ping")}, joined: make(chan struct{}, 1)}
				if _, err := server.Spawn(ctx, ctl); err != nil {
					b.Fatal(err)
				}
				<-ctl.joined
				client := server
				if remote {
					client = benchNode(b, "client@localhost")
				}
				to := exchange.At(server.Address(), "ping").PID(client)
				ping := wrapperspb.String("ping")
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					pend := client.NewPending(ctx, to.Address, false)
					req := exchange.NewRequest("ping", ping, pend.ReplyTo(), false)
					req.Deadline = time.Now().Add(time.Minute)
					if keyed {
						i++
						req.IdempotencyKey = fmt.Sprint("k", i)
					}
					if err := req.ForwardTo(client, to); err != nil {
						b.Fatal(err)
					}
					if _, err := pend.Wait(ctx); err != nil {
						b.Fatal(err)
					}
					pend.Release()
				}
			})
		}
	}
}

func benchNode(b *testing.B, name string) *actor.Node {
	n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Stop(context.Background()) })
	return n
}
