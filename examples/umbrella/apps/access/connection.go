package access

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/subscriptions"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/patterns"
)

// connection is one WebSocket client: a reader goroutine for its frames,
// a subscriber process for its events, and the writer (the handler's
// goroutine), the only one that writes to the socket.
type connection struct {
	s      *server
	ws     *websocket.Conn
	id     string
	events chan []byte // encoded ServerFrames for the writer

	mu    sync.Mutex
	users map[string]bool // followed, for the unsubscribes at the end
}

func (c *connection) serve(ctx context.Context) {
	defer c.ws.CloseNow()
	n := c.s.node
	pid, err := n.Spawn(ctx, &subscriber{c: c})
	if err != nil {
		return
	}
	defer func() {
		_ = n.StopProcess(context.Background(), pid, nil) // the proxy drops its subscriptions
		c.forget()
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	readCtx, stopRead := context.WithCancel(ctx)
	go func() {
		defer wg.Done()
		defer stopRead()
		c.read(readCtx, pid)
	}()
	defer wg.Wait()
	defer stopRead()
	for {
		select {
		case <-readCtx.Done():
			_ = c.ws.Close(websocket.StatusNormalClosure, "")
			return
		case b := <-c.events:
			if err := c.ws.Write(readCtx, websocket.MessageText, b); err != nil {
				return
			}
		}
	}
}

// read handles the client's frames until it goes.
func (c *connection) read(ctx context.Context, pid *actor.PID) {
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		f, err := ParseClientFrame(b)
		if err != nil {
			c.s.st.Add(BadFrames, 1)
			c.send(&ServerFrame{Op: &ServerFrame_Error{Error: err.Error()}})
			continue
		}
		switch op := f.Op.(type) {
		case *ClientFrame_Subscribe:
			c.send(c.subscribe(ctx, op.Subscribe, pid))
		case *ClientFrame_Unsubscribe:
			c.unsubscribe(ctx, op.Unsubscribe, pid)
		}
	}
}

func (c *connection) subscribe(ctx context.Context, user string, pid *actor.PID) *ServerFrame {
	n, cfg := c.s.node, c.s.cfg
	fail := func(err error) *ServerFrame {
		c.s.st.Add(Failures, 1)
		return &ServerFrame{Op: &ServerFrame_Error{Error: fmt.Sprintf("subscribe %s: %v", user, err)}}
	}
	if err := patterns.Subscribe(ctx, n, exchange.Named(cfg.Proxy), users.EventKey(user), c.id, pid); err != nil {
		return fail(err)
	}
	c.mu.Lock()
	if c.users == nil {
		c.users = map[string]bool{}
	}
	c.users[user] = true
	c.mu.Unlock()
	list, err := c.record(ctx, user)
	if err != nil {
		return fail(err)
	}
	c.s.st.Add(Subscribes, 1)
	return &ServerFrame{Op: &ServerFrame_Subscribed{Subscribed: &Subscribed{User: user, Leader: list.GetLeader(), Subscribers: uint32(len(list.GetClients()))}}}
}

// record records the subscription with the subscriptions service,
// trying again for up to 3 s: while its leader changes (a node died, the
// exchange moved) the service answers with an error for a moment.
func (c *connection) record(ctx context.Context, user string) (*subscriptions.Subscribers, error) {
	n, client := c.s.node, patterns.NewClient(c.s.node)
	deadline := time.Now().Add(3 * time.Second)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		list, err := subscriptions.Add(ctx, client, c.s.cfg.Subscriptions, user, c.id, n.Name())
		if err == nil || time.Now().Add(wait).After(deadline) {
			return list, err
		}
		c.s.st.Add(Retries, 1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (c *connection) unsubscribe(ctx context.Context, user string, pid *actor.PID) {
	n, cfg := c.s.node, c.s.cfg
	_ = patterns.Unsubscribe(ctx, n, exchange.Named(cfg.Proxy), users.EventKey(user), c.id, pid)
	c.mu.Lock()
	delete(c.users, user)
	c.mu.Unlock()
	_, _ = subscriptions.Remove(ctx, patterns.NewClient(n), cfg.Subscriptions, user, c.id, n.Name())
}

// forget removes the client's subscriptions from the subscriptions
// service when it goes (bounded: the server may be stopping).
func (c *connection) forget() {
	c.mu.Lock()
	followed := c.users
	c.users = nil
	c.mu.Unlock()
	if len(followed) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	client := patterns.NewClient(c.s.node)
	for user := range followed {
		if _, err := subscriptions.Remove(ctx, client, c.s.cfg.Subscriptions, user, c.id, c.s.node.Name()); err != nil {
			return
		}
	}
}

// send queues a frame for the writer, dropping it (counted) when the
// client is too slow.
func (c *connection) send(f *ServerFrame) {
	b, err := protojson.Marshal(f)
	if err != nil {
		return
	}
	select {
	case c.events <- b:
	default:
		c.s.st.Add(Dropped, 1)
	}
}

// subscriber is the connection's process: it receives the events the
// proxy delivers and hands them to the writer.
type subscriber struct {
	actor.BaseServer
	c *connection
}

func (s *subscriber) HandleInfo(_ *actor.Process, msg any) {
	m, ok, err := pubsub.AsMessage(msg)
	if !ok || err != nil {
		return
	}
	ev, ok := m.Value.(*users.ProfileUpdated)
	if !ok {
		return
	}
	s.c.s.st.Add(Delivered, 1)
	s.c.send(&ServerFrame{Op: &ServerFrame_Update{Update: ev}})
}
