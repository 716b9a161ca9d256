package release

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/supervisor"
)

// The kinds of exchange a release file declares.
const (
	KindRequest = "request" // request-response: exchange.Spec
	KindPubSub  = "pubsub"  // publish-subscribe: pubsub.Spec
	KindTasks   = "tasks"   // a task queue: tasks.Spec
)

// ExchangeConfig is a static exchange point of a release file, started
// on the node before its applications (seed 002: "a service may use the
// static exchange points defined in the node's configuration"). The spec
// of its Kind is set.
type ExchangeConfig struct {
	Name, Kind string
	Request    exchange.Spec // KindRequest
	PubSub     pubsub.Spec   // KindPubSub
	Tasks      tasks.Spec    // KindTasks
}

// ChildSpec is the supervisor child spec of the exchange.
func (e ExchangeConfig) ChildSpec() supervisor.ChildSpec {
	switch e.Kind {
	case KindPubSub:
		return pubsub.ChildSpec(e.PubSub)
	case KindTasks:
		return tasks.ChildSpec(e.Tasks)
	}
	return exchange.ChildSpec(e.Request)
}

var exchangeKeys = map[string][]keySpec{
	KindRequest: {
		{"strategy", kString, "broadcast"},
		{"max_payload", kInt, 0},
		{"max_hops", kInt, 0},
		{"idempotency_window", kDuration, time.Duration(0)},
		{"idempotency_max_keys", kInt, 0},
		{"idempotency_max_bytes", kInt, 0},
	},
	KindPubSub: {
		{"upstream", kString, ""},
		{"upstream_node", kString, ""},
		{"max_payload", kInt, 0},
	},
	KindTasks: {
		{"ack_timeout", kDuration, time.Duration(0)},
		{"max_deliveries", kInt, 0},
		{"max_queue", kInt, 0},
		{"max_priority", kInt, 0},
		{"dead_letter", kString, ""},
		{"dead_letter_node", kString, ""},
		{"dead_letter_key", kString, ""},
		{"max_payload", kInt, 0},
	},
}

// strategy is the strategy a file names: one that needs no code.
func strategy(name string) (exchange.Strategy, bool) {
	for s := exchange.Broadcast; s <= exchange.Sticky; s++ {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}

func (d *decoder) exchanges(p toml.Primitive) ([]ExchangeConfig, error) {
	t, err := d.table("exchanges", p)
	if err != nil {
		return nil, err
	}
	var out []ExchangeConfig
	for _, name := range d.inFileOrder(t) {
		path := "exchanges." + name
		et, err := d.table(path, t[name])
		if err != nil {
			return nil, err
		}
		line := d.line(t[name])
		fail := func(key, format string, args ...any) error {
			l := line
			if p, ok := et[key]; ok {
				l = d.line(p)
			}
			return &Error{File: d.file, Line: l, Key: join(path, key), Err: ErrBadExchange, Detail: fmt.Sprintf(format, args...)}
		}
		kp, ok := et["kind"]
		if !ok {
			return nil, fail("kind", "no kind (request, pubsub or tasks)")
		}
		k, err := d.value(path+".kind", kp, kString)
		if err != nil {
			return nil, err
		}
		kind := k.(string)
		specs, ok := exchangeKeys[kind]
		if !ok {
			return nil, fail("kind", "kind %q: request, pubsub or tasks", kind)
		}
		v, err := d.settings(path, et, specs, "", "kind")
		if err != nil {
			return nil, err
		}
		cfg := ExchangeConfig{Name: name, Kind: kind}
		var verr error
		switch kind {
		case KindRequest:
			s, ok := strategy(v["strategy"].(string))
			if !ok {
				return nil, fail("strategy", "strategy %q: one of broadcast, round_robin, leader, leader_round_robin, sticky (sticky_func and func need code: start such an exchange in an application)", v["strategy"])
			}
			cfg.Request = exchange.Spec{Name: name, Strategy: s, MaxPayload: v["max_payload"].(int), MaxHops: v["max_hops"].(int),
				Idempotency: exchange.Idempotency{Window: v["idempotency_window"].(time.Duration),
					MaxKeys: v["idempotency_max_keys"].(int), MaxBytes: v["idempotency_max_bytes"].(int)}}
			verr = cfg.Request.Validate()
		case KindPubSub:
			cfg.PubSub = pubsub.Spec{Name: name, MaxPayload: v["max_payload"].(int),
				Upstream: exchange.Address{Name: v["upstream"].(string), Node: v["upstream_node"].(string)}}
			if cfg.PubSub.Upstream.Name == "" && cfg.PubSub.Upstream.Node != "" {
				return nil, fail("upstream_node", "upstream_node without upstream")
			}
			verr = cfg.PubSub.Validate()
		case KindTasks:
			cfg.Tasks = tasks.Spec{Name: name, AckTimeout: v["ack_timeout"].(time.Duration),
				MaxDeliveries: v["max_deliveries"].(int), MaxQueue: v["max_queue"].(int), MaxPriority: v["max_priority"].(int),
				DeadLetter:    exchange.Address{Name: v["dead_letter"].(string), Node: v["dead_letter_node"].(string)},
				DeadLetterKey: v["dead_letter_key"].(string), MaxPayload: v["max_payload"].(int)}
			if cfg.Tasks.DeadLetter.Name == "" && cfg.Tasks.DeadLetter.Node != "" {
				return nil, fail("dead_letter_node", "dead_letter_node without dead_letter")
			}
			verr = cfg.Tasks.Validate()
		}
		if verr != nil {
			msg := verr.Error()
			if errors.Is(verr, exchange.ErrInvalidSpec) {
				msg = strings.TrimPrefix(strings.TrimPrefix(msg, exchange.ErrInvalidSpec.Error()), ": ")
			}
			return nil, fail("", "%s", msg)
		}
		out = append(out, cfg)
	}
	return out, nil
}
