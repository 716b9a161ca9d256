package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// RabbitMQ's durable queue: a quorum queue (x-queue-type quorum, its
// replicated, fsyncing queue type; on one broker a group of one),
// persistent messages, publisher confirms on one channel per producer
// (PublishWithDeferredConfirm: many publishes in flight, each confirm
// waited for later), workers consuming with manual acks and basic.qos
// prefetch, one channel each. One connection for the producers, one for
// the workers.

type rabbitDurable struct {
	pub, sub *amqp.Connection
	queue    string
	wg       sync.WaitGroup
}

func newRabbitDurable(url, queue string, workers, prefetch int, acks *ackCounter) (durableTarget, error) {
	t := &rabbitDurable{queue: queue}
	var err error
	if t.pub, err = amqp.Dial(url); err != nil {
		return nil, err
	}
	if t.sub, err = amqp.Dial(url); err != nil {
		t.close()
		return nil, err
	}
	ch, err := t.pub.Channel()
	if err == nil {
		_, err = ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"})
	}
	if err == nil {
		_, err = ch.QueuePurge(queue, false) // what an earlier run left
	}
	if err != nil {
		t.close()
		return nil, fmt.Errorf("declaring the quorum queue %s: %w", queue, err)
	}
	_ = ch.Close()
	for range workers {
		ch, err := t.sub.Channel()
		if err == nil {
			err = ch.Qos(prefetch, 0, false)
		}
		var deliveries <-chan amqp.Delivery
		if err == nil {
			deliveries, err = ch.Consume(queue, "", false, false, false, false, nil)
		}
		if err != nil {
			t.close()
			return nil, err
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			for d := range deliveries { // ends when the connection closes
				if d.Ack(false) == nil {
					acks.acked()
				}
			}
		}()
	}
	return t, nil
}

func (t *rabbitDurable) close() {
	if t.pub != nil {
		if ch, err := t.pub.Channel(); err == nil {
			_, _ = ch.QueueDelete(t.queue, false, false, false)
		}
		_ = t.pub.Close()
	}
	if t.sub != nil {
		_ = t.sub.Close()
	}
	t.wg.Wait()
}

type rabbitProducer struct {
	ch    *amqp.Channel
	queue string
}

func (t *rabbitDurable) newProducer() (producer, error) {
	ch, err := t.pub.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, err
	}
	return &rabbitProducer{ch: ch, queue: t.queue}, nil
}

func (p *rabbitProducer) close() { _ = p.ch.Close() }

func (p *rabbitProducer) submit(ctx context.Context, body []byte) (confirm, error) {
	dc, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, "", p.queue, false, false,
		amqp.Publishing{DeliveryMode: amqp.Persistent, Body: body})
	if err != nil {
		return nil, err
	}
	return rabbitConfirm{dc}, nil
}

type rabbitConfirm struct{ dc *amqp.DeferredConfirmation }

var errNacked = errors.New("amqp: the broker nacked a publish")

func (c rabbitConfirm) wait(ctx context.Context) error {
	ok, err := c.dc.WaitContext(ctx)
	if err == nil && !ok {
		err = errNacked
	}
	return err
}
