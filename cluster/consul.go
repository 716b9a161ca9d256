package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/clusterpb"
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
	// WaitTime bounds one blocking query; default 30 s. The membership
	// query waits no longer than the next renewal.
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
// instance of cfg.Service with a TTL check it renews, and opens a session
// bound to that check with the delete behaviour. Under that session it
// holds a KV key of its own (its member record) and one per directory
// entry, so when the node dies and its check lapses, Consul ends the
// session and deletes them all. Every node follows the members and the
// directory with one blocking query on the service's KV prefix. While
// Consul cannot be reached, the last membership seen is kept and the node
// retries with backoff; when Consul returns (restarted with its state
// lost, say), the node registers, opens a session and publishes its member
// record and entries again.
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
	client    *api.Client // for what the node asks now and then
	watcher   *api.Client // for follow: renewals and the blocking queries
	closeIdle func()
	self      Member
	sink      Sink
	log       *slog.Logger
	serviceID string
	checkID   string
	cookie    string // the node's CookieTag: records with another are not members
	root      string // KV prefix of the service, ending in '/'
	prefix    string // KV prefix of the directory, ending in '/'
	members   string // KV prefix of the member records, ending in '/'

	passed   atomic.Int64 // when the check last passed, unix nanoseconds
	reopenMu sync.Mutex   // one session replacement at a time
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
	client, closeClient, err := newConsulClient(c.cfg, consulIdleConn)
	if err != nil {
		return err
	}
	watcher, closeWatcher, err := newConsulClient(c.cfg, 0)
	if err != nil {
		closeClient()
		return err
	}
	c.client, c.watcher = client, watcher
	c.closeIdle = func() { closeClient(); closeWatcher() }
	c.self, c.sink = self, s
	c.cookie = n.CookieTag("switchboard-cluster:" + c.cfg.Service)
	c.log = c.cfg.Logger.With("node", self.Name, "consul", c.cfg.Address)
	c.serviceID = c.cfg.Service + ":" + self.Name
	c.checkID = c.serviceID + ":ttl"
	c.root = "switchboard/" + c.cfg.Service + "/"
	c.prefix = c.root + "names/"
	c.members = c.root + "members/"
	c.own = map[string]Entry{}
	reg := c.registration(host, port)
	if err := c.start(ctx, reg); err != nil {
		c.closeIdle()
		return err
	}
	// A first snapshot, so the caller sees the members on return.
	if pairs, _, err := c.client.KV().List(c.root, (&api.QueryOptions{}).WithContext(ctx)); err == nil {
		c.report(pairs)
	}
	wctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Add(1)
	go c.follow(wctx, reg)
	return nil
}

// consulIdleConn is how long an idle connection of a node's other client
// is kept: longer than the gap between the requests of a burst
// (registering many names).
const consulIdleConn = 250 * time.Millisecond

// newConsulClient returns a client of cfg's agent with a transport of its
// own, which keeps at most one idle connection, for idle (0: the default,
// 90 s), and retries what the agent refuses as too busy (retry429); and a
// func that closes its idle connections.
func newConsulClient(cfg ConsulConfig, idle time.Duration) (*api.Client, func(), error) {
	acfg := api.DefaultConfig() // with a transport of its own
	acfg.Address = cfg.Address
	if cfg.Token != "" {
		acfg.Token = cfg.Token
	}
	if cfg.Datacenter != "" {
		acfg.Datacenter = cfg.Datacenter
	}
	acfg.Transport.MaxIdleConnsPerHost = 1
	if idle > 0 {
		acfg.Transport.IdleConnTimeout = idle
	}
	client, err := api.NewClient(acfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	acfg.HttpClient.Transport = retry429{acfg.HttpClient.Transport} // the client's own, shared
	return client, acfg.HttpClient.CloseIdleConnections, nil
}

// start registers the node, opens its session, publishes its member
// record and destroys the sessions of its previous incarnation. The
// record comes before: a node restarted within TTL is then seen with its
// new incarnation in place of the old, never missing.
func (c *consul) start(ctx context.Context, reg *api.AgentServiceRegistration) error {
	if err := c.register(ctx, reg); err != nil {
		return err
	}
	sid, err := c.openSession(ctx)
	wait := 50 * time.Millisecond
	for try := 1; try < 8 && err != nil && strings.Contains(err.Error(), "critical state"); try++ {
		// The check lapsed between its registration and the session (an
		// agent or a node so loaded that TTL passed between them): pass
		// it again, and give the agent time to tell its servers.
		if !sleepCtx(ctx, wait/2+rand.N(wait/2)) {
			break
		}
		wait = min(2*wait, time.Second)
		if err = c.register(ctx, reg); err == nil {
			sid, err = c.openSession(ctx)
		}
	}
	if err != nil {
		return err
	}
	if err := c.passIfDue(ctx); err != nil {
		return err
	}
	if err := c.acquireMember(ctx, sid); err != nil {
		return err
	}
	if err := c.passIfDue(ctx); err != nil {
		return err
	}
	return c.dropStaleSessions(ctx, sid)
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
	if err := c.pass(ctx, c.client); err != nil {
		return fmt.Errorf("%w: pass check %s: %w", ErrUnavailable, c.checkID, err)
	}
	return nil
}

// pass passes the node's check through client cl, and notes when.
func (c *consul) pass(ctx context.Context, cl *api.Client) error {
	sent := time.Now()
	if err := cl.Agent().UpdateTTLOpts(c.checkID, "", api.HealthPassing, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return err
	}
	c.passed.Store(sent.UnixNano())
	return nil
}

// passIfDue passes the check if TTL/3 has gone by since it last passed. The
// steps of a join or of a recovery call it between them: follow renews
// only between its own steps, and on an agent slow enough that the steps
// take longer than TTL the check would lapse meanwhile (and Consul end the
// session being opened or used).
func (c *consul) passIfDue(ctx context.Context) error {
	if time.Since(time.Unix(0, c.passed.Load())) < c.cfg.TTL/3 {
		return nil
	}
	if err := c.pass(ctx, c.client); err != nil {
		return fmt.Errorf("%w: pass check %s: %w", ErrUnavailable, c.checkID, err)
	}
	return nil
}

// sessionName names this node's sessions, so a restarted node can destroy
// those of its previous incarnation (their check passes again once the new
// incarnation registers, so they would never expire).
func (c *consul) sessionName() string { return "switchboard:" + c.serviceID }

func (c *consul) dropStaleSessions(ctx context.Context, current string) error {
	list, _, err := c.client.Session().List((&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%w: list sessions: %w", ErrUnavailable, err)
	}
	for _, se := range list {
		if se.Name == c.sessionName() && se.ID != current {
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

// memberKey is the KV key of the member record of node's incarnation inc.
// One per incarnation: the record of a node restarted within TTL is
// published beside its previous incarnation's, before that one's session
// is destroyed.
func (c *consul) memberKey(node string, inc int64) string {
	return c.members + node + "/" + strconv.FormatInt(inc, 10)
}

// acquireMember publishes the node's member record under session sid.
func (c *consul) acquireMember(ctx context.Context, sid string) error {
	meta := make(map[string]string, len(c.self.Meta)+1)
	for k, v := range c.self.Meta {
		meta[k] = v
	}
	if c.cookie != "" {
		meta[metaCookie] = c.cookie
	}
	b, err := proto.Marshal(&clusterpb.NodeInfo{Name: c.self.Name, Address: c.self.Address, Meta: meta, Started: c.self.Incarnation})
	if err != nil {
		return err
	}
	ok, _, err := c.client.KV().Acquire(&api.KVPair{Key: c.memberKey(c.self.Name, c.self.Incarnation), Value: b, Session: sid}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%w: publish member record: %w", ErrUnavailable, err)
	}
	if !ok {
		return fmt.Errorf("%w: publish member record: key held by another session", ErrUnavailable)
	}
	return nil
}

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
