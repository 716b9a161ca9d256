package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/switchboard-go/switchboard/actor"
)

// ConsulConfig configures the Consul provider.
type ConsulConfig struct {
	// Address is the Consul agent's HTTP API, host:port (required).
	Address string
	// Token is the ACL token; Datacenter the datacenter (default: the
	// agent's). The CONSUL_HTTP_* environment variables fill what is unset.
	Token, Datacenter string
	// Service is the Consul service every node registers as an instance
	// of; default "switchboard". Nodes of one cluster share it.
	Service string
	// TTL is the node's health check TTL, renewed every TTL/3; a node that
	// dies is seen as down within TTL. Default 3 s, at least 1 s.
	TTL time.Duration
	// WaitTime bounds one blocking query; default 30 s.
	WaitTime time.Duration
	// Logger receives Consul errors and recoveries; default: discard.
	Logger *slog.Logger
}

// Meta keys the provider adds to a node's service instance.
const (
	metaNode        = "sb_node"
	metaAddress     = "sb_address"
	metaIncarnation = "sb_incarnation"
	metaCookie      = "sb_cookie"
)

// Consul returns the Consul membership provider. Each node registers as an
// instance of cfg.Service with a TTL check it renews, and every node
// watches the healthy instances with blocking queries. Directory entries
// live in KV under a session bound to the node's check with the delete
// behaviour, so the entries of a node that dies vanish by themselves.
// While Consul cannot be reached, the last membership seen is kept and
// the node retries with backoff; when Consul returns (restarted with its
// state lost, say), the node registers, opens a session and publishes its
// entries again.
func Consul(cfg ConsulConfig) Provider {
	if cfg.Service == "" {
		cfg.Service = "switchboard"
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 3 * time.Second
	}
	cfg.TTL = max(cfg.TTL, time.Second)
	if cfg.WaitTime <= 0 {
		cfg.WaitTime = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &consul{cfg: cfg}
}

type consul struct {
	cfg       ConsulConfig
	client    *api.Client
	closeIdle func()
	self      Member
	sink      Sink
	log       *slog.Logger
	serviceID string
	checkID   string
	cookie    string // the node's CookieTag: instances with another are not members
	prefix    string // KV prefix of the directory, ending in '/'

	reopenMu sync.Mutex // one session replacement at a time
	mu       sync.Mutex
	session  string
	own      map[string]Entry

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (c *consul) Join(ctx context.Context, n *actor.Node, self Member, s Sink) error {
	if c.cfg.Address == "" {
		return fmt.Errorf("%w: Consul address missing", ErrConfig)
	}
	for k := range self.Meta {
		if !validMetaKey(k) {
			return fmt.Errorf("%w: meta key %q (Consul allows letters, digits, '_' and '-')", ErrConfig, k)
		}
	}
	host, port, err := splitAddress(self.Address)
	if err != nil {
		return fmt.Errorf("%w: node address %q: the node needs a transport (actor.Config.Listen): %w", ErrConfig, self.Address, err)
	}
	acfg := api.DefaultConfig()
	acfg.Address = c.cfg.Address
	if c.cfg.Token != "" {
		acfg.Token = c.cfg.Token
	}
	if c.cfg.Datacenter != "" {
		acfg.Datacenter = c.cfg.Datacenter
	}
	client, err := api.NewClient(acfg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.client, c.closeIdle = client, acfg.Transport.CloseIdleConnections
	c.self, c.sink = self, s
	c.cookie = n.CookieTag("switchboard-cluster:" + c.cfg.Service)
	c.log = c.cfg.Logger.With("node", self.Name, "consul", c.cfg.Address)
	c.serviceID = c.cfg.Service + ":" + self.Name
	c.checkID = c.serviceID + ":ttl"
	c.prefix = "switchboard/" + c.cfg.Service + "/names/"
	c.own = map[string]Entry{}
	reg := c.registration(host, port)
	if err := c.register(ctx, reg); err != nil {
		c.closeIdle()
		return err
	}
	if err := c.dropStaleSessions(ctx); err != nil {
		c.closeIdle()
		return err
	}
	if _, err := c.openSession(ctx); err != nil {
		c.closeIdle()
		return err
	}
	// A first snapshot, so the caller sees the members on return.
	if ms, _, err := c.healthy(ctx, 0); err == nil {
		s.SetMembers(ms)
	}
	if es, _, err := c.entries(ctx, 0); err == nil {
		s.SetEntries(es)
	}
	wctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Add(3)
	go c.keep(wctx, reg)
	go c.watchMembers(wctx)
	go c.watchEntries(wctx)
	return nil
}

func (c *consul) registration(host string, port int) *api.AgentServiceRegistration {
	meta := map[string]string{}
	for k, v := range c.self.Meta {
		meta[k] = v
	}
	meta[metaNode] = c.self.Name
	meta[metaAddress] = c.self.Address
	meta[metaIncarnation] = strconv.FormatInt(c.self.Incarnation, 10)
	if c.cookie != "" {
		meta[metaCookie] = c.cookie
	}
	return &api.AgentServiceRegistration{
		ID:      c.serviceID,
		Name:    c.cfg.Service,
		Address: host,
		Port:    port,
		Meta:    meta,
		Check: &api.AgentServiceCheck{
			CheckID:                        c.checkID,
			Name:                           "switchboard node " + c.self.Name,
			TTL:                            c.cfg.TTL.String(),
			Status:                         api.HealthPassing,
			DeregisterCriticalServiceAfter: "1m",
		},
	}
}

func (c *consul) register(ctx context.Context, reg *api.AgentServiceRegistration) error {
	if err := c.client.Agent().ServiceRegisterOpts(reg, api.ServiceRegisterOpts{}.WithContext(ctx)); err != nil {
		return fmt.Errorf("%w: register %s: %w", ErrUnavailable, c.serviceID, err)
	}
	// Registering again keeps a check's state: the check of a previous
	// incarnation that died is critical until passed explicitly.
	if err := c.client.Agent().UpdateTTLOpts(c.checkID, "", api.HealthPassing, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("%w: pass check %s: %w", ErrUnavailable, c.checkID, err)
	}
	return nil
}

// sessionName names this node's sessions, so a restarted node can destroy
// those of its previous incarnation (their check passes again once the new
// incarnation registers, so they would never expire).
func (c *consul) sessionName() string { return "switchboard:" + c.serviceID }

func (c *consul) dropStaleSessions(ctx context.Context) error {
	list, _, err := c.client.Session().List((&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%w: list sessions: %w", ErrUnavailable, err)
	}
	for _, se := range list {
		if se.Name == c.sessionName() {
			if _, err := c.client.Session().Destroy(se.ID, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
				return fmt.Errorf("%w: destroy stale session: %w", ErrUnavailable, err)
			}
		}
	}
	return nil
}

// openSession creates a session bound to the node's check, with the delete
// behaviour and a lock delay of a millisecond (Consul's 15 s default would
// keep a restarted node's names away that long).
func (c *consul) openSession(ctx context.Context) (string, error) {
	id, _, err := c.client.Session().Create(&api.SessionEntry{
		Name:          c.sessionName(),
		Behavior:      api.SessionBehaviorDelete,
		LockDelay:     time.Millisecond,
		NodeChecks:    []string{"serfHealth"},
		ServiceChecks: []api.ServiceCheck{{ID: c.checkID}},
	}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("%w: create session: %w", ErrUnavailable, err)
	}
	c.mu.Lock()
	c.session = id
	c.mu.Unlock()
	return id, nil
}

func (c *consul) key(name string) string { return c.prefix + name + "/" + c.self.Name }

func (c *consul) Register(ctx context.Context, e Entry) error {
	c.mu.Lock()
	c.own[e.Name] = e
	sid := c.session
	c.mu.Unlock()
	err := c.acquire(ctx, sid, e)
	if err != nil && strings.Contains(err.Error(), "invalid session") {
		// Consul ended the session (the check lapsed): open another, which
		// publishes every entry again, this one included.
		return c.reopen(ctx, sid)
	}
	return err
}

func (c *consul) acquire(ctx context.Context, sid string, e Entry) error {
	b, err := encodeEntry(e)
	if err != nil {
		return err
	}
	ok, _, err := c.client.KV().Acquire(&api.KVPair{Key: c.key(e.Name), Value: b, Session: sid}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%w: publish %q: %w", ErrUnavailable, e.Name, err)
	}
	if !ok {
		return fmt.Errorf("%w: publish %q: key held by another session", ErrUnavailable, e.Name)
	}
	return nil
}

func (c *consul) Unregister(ctx context.Context, name string) error {
	c.mu.Lock()
	delete(c.own, name)
	c.mu.Unlock()
	if _, err := c.client.KV().Delete(c.key(name), (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("%w: withdraw %q: %w", ErrUnavailable, name, err)
	}
	return nil
}

// Resolve reads name's entries with a consistent read.
func (c *consul) Resolve(ctx context.Context, name string) ([]Entry, error) {
	pairs, _, err := c.client.KV().List(c.prefix+name+"/", (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w: lookup %q: %w", ErrUnavailable, name, err)
	}
	return c.decodePairs(pairs), nil
}

// Leave stops the goroutines, destroys the session (which deletes the
// node's entries) and deregisters the node, so the others see it leave at
// once.
func (c *consul) Leave(ctx context.Context) error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	c.wg.Wait()
	defer c.closeIdle()
	c.mu.Lock()
	sid := c.session
	c.mu.Unlock()
	var errs []error
	if sid != "" {
		if _, err := c.client.Session().Destroy(sid, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.client.Agent().ServiceDeregisterOpts(c.serviceID, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: leave: %w", ErrUnavailable, err)
	}
	return nil
}

func splitAddress(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	return host, port, nil
}

func validMetaKey(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		b := k[i]
		if !(b == '_' || b == '-' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
			return false
		}
	}
	return true
}
