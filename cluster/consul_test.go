package cluster_test

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/internal/consultest"
)

// consulKind shares one agent among the nodes of a test; each test uses
// its own service name, so tests cannot see each other's nodes.
func consulKind(t *testing.T, ttl time.Duration) providerKind {
	var once sync.Once
	var agent *consultest.Agent
	return providerKind{"consul", func(tb testing.TB, _ string) cluster.Provider {
		once.Do(func() { agent = consultest.Start(t) })
		return cluster.Consul(cluster.ConsulConfig{Address: agent.Addr, Service: "sb-" + t.Name(), TTL: ttl, Logger: quiet()})
	}}
}

func TestConsulMembership(t *testing.T) { membership(t, consulKind(t, 3*time.Second)) }

func TestConsulDirectory(t *testing.T) { directory(t, consulKind(t, 3*time.Second)) }
