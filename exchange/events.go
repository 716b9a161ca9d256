package exchange

import (
	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/exchangepb"
)

// Leader tells a controller who leads its exchange (the seed's $leader):
// every controller gets one when it joins, and all of them get one
// whenever the leader changes. Only the strategies that appoint a leader
// (LeaderOnly, LeaderRoundRobin) name one; under the others Leader is nil
// and the event confirms the join (MemberUp and MemberDown keep the
// member list current).
type Leader struct {
	Exchange    string       // the exchange's name
	Leader      *actor.PID   // the appointed leader, or nil
	Members     []*actor.PID // every controller, oldest connection first
	ExchangePID *actor.PID   // the exchange process itself
}

// Is reports whether pid is the appointed leader.
func (l *Leader) Is(pid *actor.PID) bool { return l != nil && l.Leader != nil && l.Leader.Equal(pid) }

// MemberUp tells the other controllers that a controller joined (the
// seed's $slave_up).
type MemberUp struct {
	Exchange string
	Member   Member
}

// MemberDown tells the other controllers that a controller left or died
// (the seed's $slave_down).
type MemberDown struct {
	Exchange string
	Member   Member
}

// ExchangeDown tells a controller that its exchange died or does not
// exist (yet); its Membership joins again when the exchange is back.
type ExchangeDown struct {
	Exchange string
	Reason   string
}

// event returns the public form of a membership event from the exchange,
// or nil if msg is none.
func event(msg any) any {
	switch e := msg.(type) {
	case *exchangepb.Leader:
		return &Leader{Exchange: e.GetExchange(), Leader: e.GetLeader(), Members: e.GetMembers(), ExchangePID: e.GetExchangePid()}
	case *exchangepb.MemberUp:
		return &MemberUp{Exchange: e.GetExchange(), Member: Member{PID: e.GetMember(), ServiceTag: e.GetServiceTag(), ConnTag: e.GetConnectionTag()}}
	case *exchangepb.MemberDown:
		return &MemberDown{Exchange: e.GetExchange(), Member: Member{PID: e.GetMember(), ServiceTag: e.GetServiceTag(), ConnTag: e.GetConnectionTag()}}
	}
	return nil
}
