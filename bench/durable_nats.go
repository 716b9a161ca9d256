package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATS JetStream's durable queue: a stream with file storage and
// work-queue retention (an acked message is removed), R1 on one
// nats-server -js or R3 on three clustered ones; producers publish with
// PublishAsync (each PubAckFuture its confirm), workers share one durable
// pull consumer with explicit acks (Consume, PullMaxMessages as the
// prefetch). One connection for the producers, one for the workers.

type natsDurable struct {
	pub, sub *nats.Conn
	js       jetstream.JetStream
	subject  string
	consume  []jetstream.ConsumeContext
}

// newNATSDurable connects to urls (comma-separated: the cluster's
// servers), creates the stream with replicas and starts the workers.
func newNATSDurable(ctx context.Context, urls, subject string, replicas, workers, prefetch int, acks *ackCounter) (durableTarget, error) {
	t := &natsDurable{subject: subject}
	var err error
	if t.pub, err = nats.Connect(urls); err != nil {
		return nil, err
	}
	if t.sub, err = nats.Connect(urls); err != nil {
		t.close()
		return nil, err
	}
	if t.js, err = jetstream.New(t.pub); err != nil {
		t.close()
		return nil, err
	}
	name := strings.NewReplacer(".", "_", "-", "_").Replace(subject)
	cfg := jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Storage: jetstream.FileStorage,
		Replicas: replicas, Retention: jetstream.WorkQueuePolicy}
	var stream jetstream.Stream
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second) // within the harness's minute for a client's start
	defer cancel()
	for { // a fresh cluster takes a moment to elect its meta leader: no event tells
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second) // a request lost meanwhile is not answered
		stream, err = t.js.CreateOrUpdateStream(attempt, cfg)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.close()
			return nil, fmt.Errorf("creating the stream %s (R%d): %w", name, replicas, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := stream.Purge(ctx); err != nil {
		t.close()
		return nil, err
	}
	sjs, err := jetstream.New(t.sub)
	if err != nil {
		t.close()
		return nil, err
	}
	cons, err := sjs.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{Durable: "workers",
		AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: workers * prefetch})
	if err != nil {
		t.close()
		return nil, fmt.Errorf("creating the consumer: %w", err)
	}
	for range workers {
		cc, err := cons.Consume(func(m jetstream.Msg) {
			if m.Ack() == nil {
				acks.acked()
			}
		}, jetstream.PullMaxMessages(prefetch))
		if err != nil {
			t.close()
			return nil, err
		}
		t.consume = append(t.consume, cc)
	}
	return t, nil
}

func (t *natsDurable) close() {
	for _, cc := range t.consume {
		cc.Stop()
	}
	if t.sub != nil {
		t.sub.Close()
	}
	if t.pub != nil {
		t.pub.Close()
	}
}

func (t *natsDurable) newProducer() (producer, error) { return natsProducer{t}, nil }

type natsProducer struct{ t *natsDurable }

func (natsProducer) close() {}

func (p natsProducer) submit(_ context.Context, body []byte) (confirm, error) {
	f, err := p.t.js.PublishAsync(p.t.subject, body)
	if err != nil {
		return nil, err
	}
	return natsConfirm{f}, nil
}

type natsConfirm struct{ f jetstream.PubAckFuture }

func (c natsConfirm) wait(ctx context.Context) error {
	select {
	case <-c.f.Ok():
		return nil
	case err := <-c.f.Err():
		return err
	case <-ctx.Done():
		return errors.Join(errors.New("jetstream: no PubAck"), ctx.Err())
	}
}
