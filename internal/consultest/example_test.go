package consultest_test

import (
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/switchboard-go/switchboard/internal/consultest"
)

// In a test: start an agent, use its client; it stops when the test ends.
func Example() {
	_ = func(t *testing.T) {
		agent := consultest.Start(t)
		if _, err := agent.Client.KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err != nil {
			t.Log(err)
		}
	}
}
