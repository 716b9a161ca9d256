package consultest

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// The harness works: a service registers with a TTL check, turns healthy
// when the check passes, and is gone after deregistration; the agent
// survives a restart.
func TestRegisterAndDeregister(t *testing.T) {
	a := Start(t)
	if a.PID() <= 0 {
		t.Fatalf("PID of a running agent: %d", a.PID())
	}
	agent := a.Client.Agent()
	reg := &api.AgentServiceRegistration{
		ID: "node-1", Name: "switchboard", Address: "127.0.0.1", Port: 4000,
		Meta:  map[string]string{"node": "a@localhost"},
		Check: &api.AgentServiceCheck{CheckID: "node-1-ttl", TTL: "5s", DeregisterCriticalServiceAfter: "1m"},
	}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	if err := agent.UpdateTTL("node-1-ttl", "alive", api.HealthPassing); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	healthy := func() int {
		entries, _, err := a.Client.Health().Service("switchboard", "", true, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	if err := WaitFor(ctx, func() bool { return healthy() == 1 }); err != nil {
		t.Fatal("service never became healthy")
	}
	entries, _, _ := a.Client.Health().Service("switchboard", "", true, nil)
	if got := entries[0].Service.Meta["node"]; got != "a@localhost" {
		t.Fatalf("meta node = %q", got)
	}
	if err := agent.ServiceDeregister("node-1"); err != nil {
		t.Fatal(err)
	}
	if n := healthy(); n != 0 {
		t.Fatalf("%d instances after deregister", n)
	}
	a.Restart()
	if _, err := a.Client.KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err != nil {
		t.Fatalf("agent unusable after restart: %v", err)
	}
}
