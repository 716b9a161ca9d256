package patterns

import (
	"fmt"
	"testing"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

func TestPIDCache(t *testing.T) {
	var c pidCache
	if c.get(exchange.Named("x")) != nil {
		t.Fatal("empty cache has a PID")
	}
	c.put(exchange.Named("x"), actor.NewPID("a", "b"))
	if c.get(exchange.Named("x")) != nil {
		t.Fatal("an address without a node is cached: its PID depends on the directory")
	}
	at := func(i int) exchange.Address { return exchange.At(fmt.Sprintf("127.0.0.1:%d", i), "ping") }
	pid := func(i int) *actor.PID { return actor.NamedPID(at(i).Node, exchange.RegisteredName("ping")) }
	for i := 0; i < maxCachedPIDs; i++ {
		c.put(at(i), pid(i))
	}
	for i := 0; i < maxCachedPIDs; i++ {
		if got := c.get(at(i)); !got.Equal(pid(i)) {
			t.Fatalf("address %d: got %v, want %v", i, got, pid(i))
		}
	}
	c.put(at(maxCachedPIDs), pid(maxCachedPIDs)) // full: starts again
	if c.get(at(0)) != nil || !c.get(at(maxCachedPIDs)).Equal(pid(maxCachedPIDs)) {
		t.Fatalf("a full cache did not start again with the new address")
	}
	var none *pidCache
	none.put(at(1), pid(1))
	if none.get(at(1)) != nil {
		t.Fatal("a nil cache has a PID")
	}
}
