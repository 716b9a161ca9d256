package users

// Config is the users applications' configuration; the zero value of a
// field means its default.
type Config struct {
	// Exchange is the request-response exchange; default "users".
	Exchange string
	// Events is the pub-sub exchange of profile events; default "profiles".
	Events string
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Exchange == "" {
		c.Exchange = "users"
	}
	if c.Events == "" {
		c.Events = "profiles"
	}
	return c
}

// EventKey is the routing key of a user's ProfileUpdated events.
func EventKey(user string) string { return "profile." + user }
