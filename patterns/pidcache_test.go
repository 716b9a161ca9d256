package patterns

import (
	"fmt"
	"testing"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
)

func TestPIDCache(t *testing.T) {
	n := node(t, "a@localhost", false)
	var c pidCache
	if c.get(n, exchange.Named("x")) != nil {
		t.Fatal("empty cache has a PID")
	}
	c.put(n, exchange.Named("x"), actor.NewPID("b@elsewhere", "y"))
	if c.get(n, exchange.Named("x")) != nil {
		t.Fatal("a name alone that resolved to another node is cached: its PID depends on the directory")
	}
	// A name alone of this node's exchange: kept while it runs here.
	local := exchange.Named("here")
	startExchange(t, n, exchange.Spec{Name: "here"})
	c.put(n, local, local.PID(n))
	if !c.get(n, local).Equal(local.PID(n)) {
		t.Fatal("the PID of a local exchange named alone is not kept")
	}
	if err := n.StopProcess(ctxT(t), local.PID(n), nil); err != nil {
		t.Fatal(err)
	}
	if got := c.get(n, local); got != nil {
		t.Fatalf("the PID of a stopped local exchange is still given: %v", got)
	}
	startExchange(t, n, exchange.Spec{Name: "here"}) // restarted: the same name, the same PID
	if !c.get(n, local).Equal(local.PID(n)) {
		t.Fatal("the PID of a restarted local exchange is not given again")
	}

	at := func(i int) exchange.Address { return exchange.At(fmt.Sprintf("127.0.0.1:%d", i), "ping") }
	pid := func(i int) *actor.PID { return actor.NamedPID(at(i).Node, exchange.RegisteredName("ping")) }
	c = pidCache{}
	for i := 0; i < maxCachedPIDs; i++ {
		c.put(n, at(i), pid(i))
	}
	for i := 0; i < maxCachedPIDs; i++ {
		if got := c.get(n, at(i)); !got.Equal(pid(i)) {
			t.Fatalf("address %d: got %v, want %v", i, got, pid(i))
		}
	}
	c.put(n, at(maxCachedPIDs), pid(maxCachedPIDs)) // full: starts again
	if c.get(n, at(0)) != nil || !c.get(n, at(maxCachedPIDs)).Equal(pid(maxCachedPIDs)) {
		t.Fatalf("a full cache did not start again with the new address")
	}
	var none *pidCache
	none.put(n, at(1), pid(1))
	if none.get(n, at(1)) != nil {
		t.Fatal("a nil cache has a PID")
	}
}
