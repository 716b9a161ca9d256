package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/switchboard-go/switchboard/internal/clusterpb"
	"google.golang.org/protobuf/proto"
)

// keep renews the node's TTL check every TTL/3. When Consul cannot be
// reached it retries on the next tick; when Consul answers but has lost the
// node (restarted without its state, or the check expired while this
// process was stalled), it registers again, opens a new session and
// publishes the node's entries again.
func (c *consul) keep(ctx context.Context, reg *api.AgentServiceRegistration) {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.TTL / 3)
	defer t.Stop()
	broken := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := c.client.Agent().UpdateTTLOpts(c.checkID, "", api.HealthPassing, (&api.QueryOptions{}).WithContext(ctx))
		if err == nil && !broken {
			err = c.checkSession(ctx)
		} else {
			err = c.recover(ctx, reg)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !broken:
			c.log.Warn("consul unreachable; keeping the last membership seen", "err", err)
			broken = true
		case err == nil && broken:
			c.log.Info("consul reachable again; node registered")
			broken = false
		}
	}
}

// checkSession opens a new session and publishes again if Consul
// invalidated the node's (its check went critical).
func (c *consul) checkSession(ctx context.Context) error {
	c.mu.Lock()
	sid := c.session
	c.mu.Unlock()
	se, _, err := c.client.Session().Info(sid, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil || se != nil {
		return err
	}
	return c.reopen(ctx, sid)
}

func (c *consul) recover(ctx context.Context, reg *api.AgentServiceRegistration) error {
	if err := c.register(ctx, reg); err != nil {
		return err
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
// entries again under the new one. Concurrent callers with the same stale
// session open only one.
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
	c.mu.Lock()
	own := make([]Entry, 0, len(c.own))
	for _, e := range c.own {
		own = append(own, e)
	}
	c.mu.Unlock()
	for _, e := range own {
		if err := c.acquire(ctx, sid, e); err != nil {
			return err
		}
	}
	return nil
}

// watchMembers follows the healthy instances with blocking queries. A
// snapshot without this node is not trusted (Consul restarted and the node
// has not registered again yet): it would report every node down.
func (c *consul) watchMembers(ctx context.Context) {
	defer c.wg.Done()
	c.watch(ctx, func(idx uint64) (uint64, error) {
		ms, last, err := c.healthy(ctx, idx)
		if err != nil {
			return 0, err
		}
		for _, m := range ms {
			if m.Name == c.self.Name && m.Incarnation == c.self.Incarnation {
				c.sink.SetMembers(ms)
				break
			}
		}
		return last, nil
	})
}

func (c *consul) watchEntries(ctx context.Context) {
	defer c.wg.Done()
	c.watch(ctx, func(idx uint64) (uint64, error) {
		es, last, err := c.entries(ctx, idx)
		if err != nil {
			return 0, err
		}
		c.sink.SetEntries(es)
		return last, nil
	})
}

// watch runs blocking queries until ctx ends: query(idx) returns the new
// index. Errors back off from 100 ms to 5 s, with jitter.
func (c *consul) watch(ctx context.Context, query func(idx uint64) (uint64, error)) {
	var idx uint64
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		last, err := query(idx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Debug("consul watch failed", "err", err, "retry", backoff)
			t := time.NewTimer(backoff/2 + rand.N(backoff/2))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(backoff*2, 5*time.Second)
			idx = 0
			continue
		}
		backoff = 100 * time.Millisecond
		if last < idx { // Consul's index went back (restarted): start over
			idx = 0
			continue
		}
		idx = last
	}
}

func (c *consul) healthy(ctx context.Context, idx uint64) ([]Member, uint64, error) {
	q := &api.QueryOptions{WaitIndex: idx, WaitTime: c.cfg.WaitTime}
	list, meta, err := c.client.Health().Service(c.cfg.Service, "", true, q.WithContext(ctx))
	if err != nil {
		return nil, 0, err
	}
	ms := make([]Member, 0, len(list))
	for _, se := range list {
		if m, ok := memberOf(se.Service); ok && se.Service.Meta[metaCookie] == c.cookie {
			ms = append(ms, m)
		}
	}
	return ms, meta.LastIndex, nil
}

// memberOf reads a member from a service instance; instances not written
// by a Switchboard node are ignored, and so (in healthy) are those whose
// cookie tag is not this node's: nodes with another cookie are not
// members, whatever Consul's catalog says.
func memberOf(s *api.AgentService) (Member, bool) {
	if s == nil || !validName(s.Meta[metaNode]) || s.Meta[metaAddress] == "" {
		return Member{}, false
	}
	inc, err := strconv.ParseInt(s.Meta[metaIncarnation], 10, 64)
	if err != nil {
		return Member{}, false
	}
	m := Member{Name: s.Meta[metaNode], Address: s.Meta[metaAddress], Incarnation: inc, Meta: map[string]string{}}
	for k, v := range s.Meta {
		if k != metaNode && k != metaAddress && k != metaIncarnation && k != metaCookie {
			m.Meta[k] = v
		}
	}
	return m, true
}

func (c *consul) entries(ctx context.Context, idx uint64) ([]Entry, uint64, error) {
	q := &api.QueryOptions{WaitIndex: idx, WaitTime: c.cfg.WaitTime}
	pairs, meta, err := c.client.KV().List(c.prefix, q.WithContext(ctx))
	if err != nil {
		return nil, 0, err
	}
	return c.decodePairs(pairs), meta.LastIndex, nil
}

// decodePairs reads directory entries, skipping (and logging) any whose
// value does not decode or does not match its key.
func (c *consul) decodePairs(pairs api.KVPairs) []Entry {
	es := make([]Entry, 0, len(pairs))
	for _, p := range pairs {
		e, err := decodeEntry(p.Value)
		if err == nil && (c.prefix+e.Name+"/"+e.Node != p.Key || p.Session == "") {
			err = fmt.Errorf("%w: entry does not match its key, or has no session", ErrInvalidName)
		}
		if err != nil {
			c.sink.Reject("directory entry "+p.Key, err)
			continue
		}
		es = append(es, e)
	}
	return es
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
