package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	amqp "github.com/rabbitmq/amqp091-go"
)

// RabbitMQ's request-reply, as its documentation recommends for RPC: the
// server consumes a queue and publishes each reply to the request's
// reply_to; the client uses direct reply-to (amq.rabbitmq.reply-to), so no
// reply queue is declared. One connection per process, kept for the whole
// run; one channel per caller. No acknowledgements and no publisher
// confirms (Switchboard has neither), transient messages, a non-durable
// queue: RabbitMQ's fastest RPC.

const directReplyTo = "amq.rabbitmq.reply-to"

var (
	pingBody = []byte("ping")
	pongBody = []byte("pong")
)

func declareQueue(ch *amqp.Channel, queue string) error {
	_, err := ch.QueueDeclare(queue, false, true, false, false, nil) // transient, auto-deleted
	return err
}

// rabbitServer answers every ping on queue with pong, from one consumer (as
// Switchboard's side has one controller).
type rabbitServer struct {
	conn *amqp.Connection
	done chan struct{}
}

func startRabbitServer(url, queue string) (*rabbitServer, error) {
	conn, err := amqp.Dial(url)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err == nil {
		err = declareQueue(ch, queue)
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = ch.Consume(queue, "", true, false, false, false, nil)
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	s := &rabbitServer{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for d := range deliveries { // ends when the connection closes
			_ = ch.PublishWithContext(context.Background(), "", d.ReplyTo, false, false,
				amqp.Publishing{CorrelationId: d.CorrelationId, Body: pongBody})
		}
	}()
	return s, nil
}

func (s *rabbitServer) stop() {
	_ = s.conn.Close()
	<-s.done
}

type rabbitTarget struct {
	conn   *amqp.Connection
	queue  string
	server *rabbitServer // in the one-node topology: the server in this process
}

// newRabbitTarget connects the client process; with serveHere it also
// starts the server in this process (on its own connection).
func newRabbitTarget(url, queue string, serveHere bool) (target, error) {
	t := &rabbitTarget{queue: queue}
	if serveHere {
		s, err := startRabbitServer(url, queue)
		if err != nil {
			return nil, err
		}
		t.server = s
	}
	conn, err := amqp.Dial(url)
	if err != nil {
		t.close()
		return nil, err
	}
	t.conn = conn
	return t, nil
}

func (t *rabbitTarget) close() {
	if t.conn != nil {
		_ = t.conn.Close()
	}
	if t.server != nil {
		t.server.stop()
	}
}

type rabbitCaller struct {
	ch      *amqp.Channel
	queue   string
	replies <-chan amqp.Delivery
	seq     uint64
}

func (t *rabbitTarget) newCaller() (caller, error) {
	ch, err := t.conn.Channel()
	if err != nil {
		return nil, err
	}
	replies, err := ch.Consume(directReplyTo, "", true, false, false, false, nil)
	if err != nil {
		_ = ch.Close()
		return nil, err
	}
	return &rabbitCaller{ch: ch, queue: t.queue, replies: replies}, nil
}

func (c *rabbitCaller) close() { _ = c.ch.Close() }

func (c *rabbitCaller) call(ctx context.Context) error {
	c.seq++
	id := strconv.FormatUint(c.seq, 10)
	if err := c.ch.PublishWithContext(ctx, "", c.queue, false, false,
		amqp.Publishing{ReplyTo: directReplyTo, CorrelationId: id, Body: pingBody}); err != nil {
		return err
	}
	select {
	case d, ok := <-c.replies:
		if !ok {
			return errors.New("amqp: reply channel closed")
		}
		if d.CorrelationId != id || !bytes.Equal(d.Body, pongBody) {
			return fmt.Errorf("amqp: unexpected reply %q (correlation %q, want %q)", d.Body, d.CorrelationId, id)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
