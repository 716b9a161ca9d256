package exchange_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

// twoMemberships is a controller of two exchanges: every HandleInfo
// message goes through both memberships, as the Membership doc says.
type twoMemberships struct {
	actor.BaseServer
	a, b   exchange.Membership
	events chan any
}

func (s *twoMemberships) Init(p *actor.Process) error {
	s.a.Join(p)
	s.b.Join(p)
	return nil
}

func (s *twoMemberships) HandleInfo(p *actor.Process, msg any) {
	if ev := s.b.Handle(p, s.a.Handle(p, msg)); ev != nil {
		s.events <- ev
	}
}

// Events reach the process in their public form, and each of two
// memberships chained in one process keeps its own exchange's leader,
// whichever of them converted the event from the wire, on one node and
// from another.
func TestMembershipsChainedKeepTheirLeaders(t *testing.T) {
	for _, remote := range []bool{false, true} {
		exNode := startNode(t, "x@localhost", "", slog.New(slog.DiscardHandler))
		ctlNode := exNode
		if remote {
			ctlNode = startNode(t, "c@localhost", "", slog.New(slog.DiscardHandler))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for _, name := range []string{"one", "two"} {
			if _, err := exchange.Start(ctx, exNode, exchange.Spec{Name: name, Strategy: exchange.LeaderOnly}); err != nil {
				t.Fatal(err)
			}
		}
		s := &twoMemberships{
			a:      exchange.Membership{Exchange: exchange.At(exNode.Address(), "one")},
			b:      exchange.Membership{Exchange: exchange.At(exNode.Address(), "two")},
			events: make(chan any, 10),
		}
		pid, err := ctlNode.Spawn(ctx, s)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for len(seen) < 2 {
			l := waitFor[*exchange.Leader](t, s.events)
			if !l.Is(pid) {
				t.Fatalf("remote=%v: %s names %v as leader; want %v", remote, l.Exchange, l.Leader, pid)
			}
			seen[l.Exchange] = true
		}
		if !s.a.Leader().Is(pid) || s.a.Leader().Exchange != "one" || !s.b.Leader().Is(pid) || s.b.Leader().Exchange != "two" {
			t.Fatalf("remote=%v: memberships kept %+v and %+v", remote, s.a.Leader(), s.b.Leader())
		}
	}
}
