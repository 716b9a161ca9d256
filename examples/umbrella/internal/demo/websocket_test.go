package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/access"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
)

// A profile update made by a users replica on a worker or core node
// reaches WebSocket clients on both access nodes, and crosses the
// network from the hub exactly once per access node however many of its
// clients follow the user.
func TestProfileUpdateReachesWebSocketClientsOncePerAccessNode(t *testing.T) {
	const perNode = 4
	r := startTestRig(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	accessNodes := r.byRole("access")
	// The rig's own clients' patterns are upstream first (each proxy
	// subscribes to the hub on its own time after its first local
	// subscriber to a pattern).
	rigPatterns := map[int]bool{}
	for i := range r.cfg.Clients {
		rigPatterns[i%followed], rigPatterns[(i+3)%followed] = true, true
	}
	base := uint64(len(rigPatterns) * len(accessNodes))
	eventually(t, 10*time.Second, "the rig's subscriptions upstream", func() (bool, string) {
		h := findPubSub(statusesNow(r), "profiles", "")
		return h.GetSubscriptions() == base, fmt.Sprintf("%d subscriptions on the hub, want %d", h.GetSubscriptions(), base)
	})
	var clients []*access.Client
	for _, n := range accessNodes {
		addr := statusesNow(r)[n].GetFacts()[access.HTTP]
		for range perNode {
			c, err := access.Dial(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			if err := c.Subscribe(ctx, "u42"); err != nil {
				t.Fatal(err)
			}
			f, err := c.Next(ctx)
			if err != nil || f.GetSubscribed().GetUser() != "u42" {
				t.Fatalf("subscribe on %s: %v, %v", n, f, err)
			}
			clients = append(clients, c)
		}
	}
	// A proxy subscribes upstream on its own time after its first local
	// subscriber to a pattern: once per access node, not once per client.
	eventually(t, 10*time.Second, "the proxies' subscriptions upstream", func() (bool, string) {
		h := findPubSub(statusesNow(r), "profiles", "")
		return h.GetSubscriptions() == base+uint64(len(accessNodes)),
			fmt.Sprintf("%d subscriptions on the hub, %d before the clients", h.GetSubscriptions(), base)
	})
	before := statusesNow(r)
	hub := findPubSub(before, "profiles", "")
	p, err := users.Update(ctx, r.client, users.Config{}, "u42", "Ada")
	if err != nil {
		t.Fatal(err)
	}
	if role := r.roleOf(p.GetServedBy()); role != "worker" && role != "core" {
		t.Fatalf("update served by %q (role %q), want a replica on a worker or core node", p.GetServedBy(), role)
	}
	for i, c := range clients {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		got := f.GetUpdate().GetProfile()
		if got.GetUser() != "u42" || got.GetDisplayName() != "Ada" || got.GetVersion() != p.GetVersion() || got.GetServedBy() != p.GetServedBy() {
			t.Fatalf("client %d got %v, want the update %v", i, f, p)
		}
	}
	// Every client has it: count what crossed.
	eventually(t, 10*time.Second, "the counters", func() (bool, string) {
		after := statusesNow(r)
		h := findPubSub(after, "profiles", "")
		if h == nil {
			return false, "no hub"
		}
		msg := fmt.Sprintf("hub copies to other nodes %d -> %d", hub.GetRemote(), h.GetRemote())
		ok := h.GetRemote()-hub.GetRemote() == uint64(len(accessNodes))
		for _, n := range accessNodes {
			b, a := findPubSub(before, "profiles.proxy", n), findPubSub(after, "profiles.proxy", n)
			msg += fmt.Sprintf("; %s: copies from the hub %d -> %d, deliveries %d -> %d", n, b.GetPublished(), a.GetPublished(), b.GetDelivered(), a.GetDelivered())
			ok = ok && a.GetPublished()-b.GetPublished() == 1 && a.GetDelivered()-b.GetDelivered() == perNode
		}
		return ok, msg
	})
}
