package users

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// ReplicaName is the name of the application Replica.
const ReplicaName = "users"

// Replica is the application users: one controller of the exchange,
// counting in st what it serves ("users.get", "users.update",
// "users.published", "users.publish_errors").
func Replica(st *stats.Set) release.App {
	return release.App{
		Keys: Keys,
		Start: func(ctx context.Context, n *actor.Node, env release.Env, _ supervisor.StartType) (*actor.PID, error) {
			cfg := ConfigFrom(env)
			newReplica := func() *patterns.Controller {
				r := &replica{cfg: cfg, node: n, st: st, profiles: map[string]*Profile{}}
				return patterns.NewController(exchange.Named(cfg.Exchange), r.handle)
			}
			return supervisor.Start(ctx, n, supervisor.Spec{
				Strategy: supervisor.OneForOne,
				Children: []supervisor.ChildSpec{patterns.ControllerSpec("replica", newReplica)},
			})
		},
	}
}

// replica is one controller's state; handle runs in the controller's
// process, one request at a time.
type replica struct {
	cfg      Config
	node     *actor.Node
	st       *stats.Set
	profiles map[string]*Profile
}

func (r *replica) handle(ctx context.Context, req *exchange.Request) (any, error) {
	switch m := req.Msg.(type) {
	case *GetProfile:
		r.st.Add("users.get", 1)
		return r.profile(m.GetUser()), nil
	case *UpdateProfile:
		r.st.Add("users.update", 1)
		p := r.profile(m.GetUser())
		p.DisplayName = m.GetDisplayName()
		p.Version++
		ev := &ProfileUpdated{Profile: p, PublishedUnixNano: time.Now().UnixNano()}
		if err := patterns.Publish(ctx, r.node, exchange.Named(r.cfg.Events), EventKey(p.GetUser()), ev); err != nil {
			r.st.Add("users.publish_errors", 1)
		} else {
			r.st.Add("users.published", 1)
		}
		return p, nil
	}
	return nil, fmt.Errorf("users: unknown request %T", req.Msg)
}

// profile returns a copy of the user's profile, creating it.
func (r *replica) profile(user string) *Profile {
	p, ok := r.profiles[user]
	if !ok {
		p = &Profile{User: user, DisplayName: user}
		r.profiles[user] = p
	}
	p.ServedBy = r.node.Name()
	return &Profile{User: p.User, DisplayName: p.DisplayName, Version: p.Version, ServedBy: p.ServedBy}
}
