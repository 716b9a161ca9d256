package main

import (
	"bytes"
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
)

// NATS request-reply: the server subscribes to a subject and responds to
// each message; clients use Request, which shares one reply subscription
// per connection. One connection per process.

type natsServer struct{ conn *nats.Conn }

func startNATSServer(url, subject string) (*natsServer, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond(pongBody) }); err != nil {
		nc.Close()
		return nil, err
	}
	if err := nc.Flush(); err != nil { // the subscription is on the server
		nc.Close()
		return nil, err
	}
	return &natsServer{conn: nc}, nil
}

func (s *natsServer) stop() { s.conn.Close() }

type natsTarget struct {
	conn    *nats.Conn
	subject string
	server  *natsServer
}

func newNATSTarget(url, subject string, serveHere bool) (target, error) {
	t := &natsTarget{subject: subject}
	if serveHere {
		s, err := startNATSServer(url, subject)
		if err != nil {
			return nil, err
		}
		t.server = s
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.close()
		return nil, err
	}
	t.conn = nc
	return t, nil
}

func (t *natsTarget) close() {
	if t.conn != nil {
		t.conn.Close()
	}
	if t.server != nil {
		t.server.stop()
	}
}

func (t *natsTarget) newCaller() (caller, error) { return natsCaller{t}, nil }

type natsCaller struct{ t *natsTarget }

func (natsCaller) close() {}

func (c natsCaller) call(ctx context.Context) error {
	m, err := c.t.conn.RequestWithContext(ctx, c.t.subject, pingBody)
	if err != nil {
		return err
	}
	if !bytes.Equal(m.Data, pongBody) {
		return fmt.Errorf("nats: unexpected reply %q", m.Data)
	}
	return nil
}
