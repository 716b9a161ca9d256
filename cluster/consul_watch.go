package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/switchboard-go/switchboard/internal/clusterpb"
	"google.golang.org/protobuf/proto"
)

// follow keeps the node a member and follows the others, until ctx ends.
// It renews the node's TTL check every TTL/3, and between renewals follows
// the member records and the directory with blocking queries on the
// service's KV prefix: one goroutine and one connection to the agent do
// both (a Consul agent refuses more than limits.http_max_conns_per_client,
// 200, connections from one address: the nodes of one host together).
//
// When Consul cannot be reached it retries with backoff, keeping the last
// membership seen; when Consul answers but has lost the node (restarted
// without its state, or the check expired while this process was
// stalled), it registers again, opens a new session and publishes the
// node's member record and entries again. A snapshot without the node's
// own record (its session ended) starts the same recovery.
//
// After a change it waits a little before it asks again (the settle):
// consulSettleBase after a quiet spell, so that a change alone is seen at
// once, and twice as long each time the next query finds changes already
// waiting, up to consulSettleMax: a burst of changes (a hundred nodes
// joining) is then read a few times by each node rather than once per
// change, and every read of every node costs the agent the whole prefix.
func (c *consul) follow(ctx context.Context, reg *api.AgentServiceRegistration) {
	defer c.wg.Done()
	every := c.cfg.TTL / 3
	var tried time.Time           // the last renewal
	renewAt := func() time.Time { // TTL/3 after the check last passed (here or in a join or recovery step) or failed to
		return later(time.Unix(0, c.passed.Load()), tried).Add(every)
	}
	var idx uint64
	var settle time.Duration
	backoff := 100 * time.Millisecond
	broken, suspect := false, false
	health := func(err error) {
		switch {
		case ctx.Err() != nil: // leaving
		case err != nil && !broken:
			c.log.Warn("consul unreachable; keeping the last membership seen", "err", err)
			broken = true
		case err == nil && broken:
			c.log.Info("consul reachable again; node registered")
			broken = false
		}
	}
	pause := func(d time.Duration) bool { // no later than the next renewal
		return sleepCtx(ctx, min(d, time.Until(renewAt())))
	}
	for ctx.Err() == nil {
		if !time.Now().Before(renewAt()) {
			tried = time.Now()
			err := c.pass(ctx, c.watcher)
			var se api.StatusError
			if busy := errors.As(err, &se) && se.Code == http.StatusTooManyRequests; !busy && (err != nil || broken) {
				// An agent that refused the renewal as too busy (429,
				// after retry429's tries) would refuse a registration as
				// well: it is only asked again next time.
				err = c.recover(ctx, reg, err != nil)
				suspect = false
			}
			health(err)
			continue
		}
		if suspect {
			suspect = false
			health(c.recover(ctx, reg, false))
			continue
		}
		// Consul adds up to 1/16 to a query's wait: ask for less, so the
		// answer comes back by the next renewal.
		wait := min(time.Until(renewAt())*15/16, c.cfg.WaitTime)
		if wait < 10*time.Millisecond {
			if !pause(wait) {
				return
			}
			continue
		}
		// The blocking query asks only for the prefix's top-level keys
		// (members/, names/, locks/: a few bytes), whose index moves with
		// any change under them, and a change is then read whole: a wait
		// that ends without one, every TTL/3, costs the agent a small
		// fraction of a read of the prefix.
		asked := time.Now()
		q := &api.QueryOptions{WaitIndex: idx, WaitTime: wait}
		_, meta, err := c.watcher.KV().Keys(c.root, "/", q.WithContext(ctx))
		waited := time.Since(asked)
		var pairs api.KVPairs
		if err == nil && meta.LastIndex > idx {
			pairs, meta, err = c.watcher.KV().List(c.root, (&api.QueryOptions{}).WithContext(ctx))
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Debug("consul watch failed", "err", err, "retry", backoff)
			if !pause(backoff/2 + rand.N(backoff/2)) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			idx = 0
			continue
		}
		backoff = 100 * time.Millisecond
		last := meta.LastIndex
		if last < idx { // Consul's index went back (restarted): start over
			idx = 0
			continue
		}
		if last == idx {
			continue // the wait ended without a change
		}
		idx = last
		n, self := c.report(pairs)
		suspect = !self
		if settle > 0 && waited < consulSettleBase {
			settle = min(2*settle, consulSettleMax(n)) // the burst goes on
		} else {
			settle = consulSettleBase
		}
		if !pause(settle/2 + rand.N(settle/2)) {
			return
		}
	}
}

// recover registers the node again if register, then opens a new session
// if Consul ended the node's, and publishes the member record and entries
// again.
func (c *consul) recover(ctx context.Context, reg *api.AgentServiceRegistration, register bool) error {
	if register {
		if err := c.register(ctx, reg); err != nil {
			return err
		}
	}
	c.mu.Lock()
	sid := c.session
	c.mu.Unlock()
	se, _, err := c.client.Session().Info(sid, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return err
	}
	if se == nil {
		return c.reopen(ctx, sid)
	}
	return c.republish(ctx, sid)
}

// reopen replaces the session stale, which Consul ended, and publishes the
// member record and entries again under the new one. Concurrent callers
// with the same stale session open only one.
func (c *consul) reopen(ctx context.Context, stale string) error {
	c.reopenMu.Lock()
	defer c.reopenMu.Unlock()
	c.mu.Lock()
	sid := c.session
	c.mu.Unlock()
	if sid == stale {
		var err error
		if sid, err = c.openSession(ctx); err != nil {
			return err
		}
	}
	return c.republish(ctx, sid)
}

func (c *consul) republish(ctx context.Context, sid string) error {
	if err := c.acquireMember(ctx, sid); err != nil {
		return err
	}
	c.mu.Lock()
	own := make([]Entry, 0, len(c.own))
	for _, e := range c.own {
		own = append(own, e)
	}
	c.mu.Unlock()
	for _, e := range own {
		if err := c.passIfDue(ctx); err != nil {
			return err
		}
		if err := c.acquire(ctx, sid, e); err != nil {
			return err
		}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// consulSettleBase is the settle after a quiet spell, and how soon a query
// must return to have found changes already waiting.
const consulSettleBase = 20 * time.Millisecond

// consulSettleMax is the longest settle with n members: 5 ms a member,
// from consulSettleBase to 500 ms. In a long burst the agent then answers
// about 200 reads a second however many nodes watch.
func consulSettleMax(n int) time.Duration {
	return min(max(time.Duration(n)*5*time.Millisecond, consulSettleBase), 500*time.Millisecond)
}

// report reads a snapshot of the service's KV prefix and reports its
// members and entries, and returns the number of members and whether this
// node's record was among them. A snapshot without it is not trusted
// (Consul restarted, or ended the node's session, and the node has not
// published again yet): it would report every node down.
func (c *consul) report(pairs api.KVPairs) (members int, self bool) {
	newest := map[string]Member{} // by name: a node restarted within TTL has two records for a moment
	var es []Entry
	for _, p := range pairs {
		switch {
		case strings.HasPrefix(p.Key, c.members):
			m, cookie, err := decodeMember(p.Value)
			if err == nil && (c.memberKey(m.Name, m.Incarnation) != p.Key || p.Session == "") {
				err = fmt.Errorf("%w: member record does not match its key, or has no session", ErrInvalidName)
			}
			if err != nil {
				c.sink.Reject("member record "+p.Key, err)
				continue
			}
			if cookie != c.cookie {
				continue // another cluster's node: not a member
			}
			if m.Name == c.self.Name && m.Incarnation == c.self.Incarnation {
				self = true
			}
			if o, ok := newest[m.Name]; !ok || o.Incarnation < m.Incarnation {
				newest[m.Name] = m
			}
		case strings.HasPrefix(p.Key, c.prefix):
			if e, ok := c.decodePair(p); ok {
				es = append(es, e)
			}
		}
	}
	if self {
		ms := make([]Member, 0, len(newest))
		for _, m := range newest {
			ms = append(ms, m)
		}
		c.sink.SetMembers(ms)
		c.sink.SetEntries(es)
	}
	return len(newest), self
}

// decodeMember reads a member record, and the cookie tag it carries.
func decodeMember(b []byte) (Member, string, error) {
	var d clusterpb.NodeInfo
	if err := proto.Unmarshal(b, &d); err != nil {
		return Member{}, "", err
	}
	if !validName(d.Name) || d.Address == "" || strings.ContainsRune(d.Address, '/') {
		return Member{}, "", ErrInvalidName
	}
	m := Member{Name: d.Name, Address: d.Address, Incarnation: d.Started, Meta: map[string]string{}}
	for k, v := range d.Meta {
		if k != metaCookie {
			m.Meta[k] = v
		}
	}
	return m, d.Meta[metaCookie], nil
}

// decodePairs reads directory entries, skipping (and logging) any whose
// value does not decode or does not match its key.
func (c *consul) decodePairs(pairs api.KVPairs) []Entry {
	es := make([]Entry, 0, len(pairs))
	for _, p := range pairs {
		if e, ok := c.decodePair(p); ok {
			es = append(es, e)
		}
	}
	return es
}

func (c *consul) decodePair(p *api.KVPair) (Entry, bool) {
	e, err := decodeEntry(p.Value)
	if err == nil && (c.prefix+e.Name+"/"+e.Node != p.Key || p.Session == "") {
		err = fmt.Errorf("%w: entry does not match its key, or has no session", ErrInvalidName)
	}
	if err != nil {
		c.sink.Reject("directory entry "+p.Key, err)
		return Entry{}, false
	}
	return e, true
}

func encodeEntry(e Entry) ([]byte, error) {
	return proto.Marshal(&clusterpb.DirEntry{Name: e.Name, Node: e.Node, Address: e.Address, Created: e.Created})
}

func decodeEntry(b []byte) (Entry, error) {
	var d clusterpb.DirEntry
	if err := proto.Unmarshal(b, &d); err != nil {
		return Entry{}, err
	}
	if !validName(d.Name) || !validName(d.Node) || d.Address == "" || strings.ContainsRune(d.Address, '/') {
		return Entry{}, ErrInvalidName
	}
	return Entry{Name: d.Name, Node: d.Node, Address: d.Address, Created: d.Created}, nil
}
