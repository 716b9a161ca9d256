package users

import (
	"context"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

// Get asks the users service for a user's profile.
func Get(ctx context.Context, c *patterns.Client, cfg Config, user string) (*Profile, error) {
	cfg = cfg.WithDefaults()
	return patterns.CallAs[*Profile](ctx, c, exchange.Named(cfg.Exchange), &GetProfile{User: user}, patterns.WithRoutingKey(user))
}

// Update changes a user's display name; the replica that applies it
// publishes a ProfileUpdated.
func Update(ctx context.Context, c *patterns.Client, cfg Config, user, name string) (*Profile, error) {
	cfg = cfg.WithDefaults()
	return patterns.CallAs[*Profile](ctx, c, exchange.Named(cfg.Exchange),
		&UpdateProfile{User: user, DisplayName: name}, patterns.WithRoutingKey(user))
}
