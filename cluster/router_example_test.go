package cluster_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
)

// The routing table of the Mix and OTP guide's KV.Router, on one node.
func ExampleNewRanges() {
	table, err := cluster.NewRanges(
		cluster.Range{From: 'a', To: 'm', Node: "foo@computer-name"},
		cluster.Range{From: 'n', To: 'z', Node: "bar@computer-name"},
	)
	if err != nil {
		panic(err)
	}
	for _, bucket := range []string{"hello", "world", "Hello"} {
		node, err := table.Owner(bucket)
		fmt.Println(bucket, node, errors.Is(err, cluster.ErrNoRoute))
	}
	// Output:
	// hello foo@computer-name false
	// world bar@computer-name false
	// Hello  true
}

// A fourth node joining a ring of three takes about a quarter of the keys,
// all of them moving to it.
func ExampleRing() {
	ring, err := cluster.NewRing(0, "a@host", "b@host", "c@host")
	if err != nil {
		panic(err)
	}
	before := map[string]string{}
	for i := range 10000 {
		key := fmt.Sprint("key-", i)
		before[key], _ = ring.Owner(key)
	}
	if err := ring.Add("d@host"); err != nil {
		panic(err)
	}
	moved := map[string]int{}
	for key, old := range before {
		if now, _ := ring.Owner(key); now != old {
			moved[now]++
		}
	}
	fmt.Println(moved)
	// Output: map[d@host:2641]
}

// A router on a node that owns every key serves requests itself; on a
// cluster, every node runs one with its own table and Resolve.
func ExampleRoute() {
	n, err := actor.Start(actor.Config{Name: "foo@computer-name"})
	if err != nil {
		panic(err)
	}
	defer n.Stop(context.Background())
	table, _ := cluster.NewRanges(cluster.Range{From: 'a', To: 'z', Node: "foo@computer-name"})
	_, err = cluster.StartRouter(context.Background(), n, cluster.RouterSpec{
		Name:  "kv",
		Table: table,
		Handle: func(_ context.Context, bucket string, msg any) (any, error) {
			return fmt.Sprintf("%v from bucket %s on %s", msg, bucket, n.Name()), nil
		},
	})
	if err != nil {
		panic(err)
	}
	reply, err := cluster.Route(context.Background(), n, "kv", "shopping", "eggs")
	if err != nil {
		panic(err)
	}
	fmt.Println(reply)
	_, err = cluster.Route(context.Background(), n, "kv", "Shopping", "eggs")
	fmt.Println(errors.Is(err, cluster.ErrNoRoute))
	// Output:
	// eggs from bucket shopping on foo@computer-name
	// true
}
