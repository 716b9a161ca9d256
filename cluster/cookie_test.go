package cluster_test

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/patterns"
)

func TestCookieEmbedded(t *testing.T) { wrongCookie(t, embeddedKind()) }

func TestCookieConsul(t *testing.T) { wrongCookie(t, consulKind(t, 3*time.Second)) }

func startNodeCookie(t testing.TB, name, cookie string) *actor.Node {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: name, Listen: "127.0.0.1:0", Cookie: cookie, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(ctxT(t, 10*time.Second)) })
	return n
}

// wrongCookie: a node with another cookie is no member, its exchanges are
// not found, and what it sends is not delivered.
func wrongCookie(t *testing.T, k providerKind) {
	a := join(t, startNodeCookie(t, "a@test", "right"), k.make(t, ""))
	if _, err := exchange.Start(ctxT(t, 5*time.Second), a.n, exchange.Spec{Name: "ex-a"}); err != nil {
		t.Fatal(err)
	}
	x := join(t, startNodeCookie(t, "x@test", "wrong"), k.make(t, a.n.Address()))
	if _, err := exchange.Start(ctxT(t, 5*time.Second), x.n, exchange.Spec{Name: "ex-x"}); err != nil {
		t.Fatal(err)
	}
	// b joins after x and then leaves: once a has seen b leave, it has seen
	// every change before, x's attempt included.
	b := join(t, startNodeCookie(t, "b@test", "right"), k.make(t, a.n.Address()))
	a.awaitUp(t, 10*time.Second, "b@test")
	if err := b.c.Leave(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	a.awaitDown(t, 5*time.Second, "b@test")

	// x cannot deliver: its request to a's exchange is refused at the
	// handshake and fails fast.
	_, err := patterns.NewClient(x.n).Call(ctxT(t, 5*time.Second), exchange.At(a.n.Address(), "ex-a"), wrapperspb.String("hi"))
	if !errors.Is(err, actor.ErrNodeDown) {
		t.Fatalf("call from the node with the wrong cookie: %v", err)
	}
	if a.n.Stats().Refused == 0 {
		t.Fatal("a refused no handshake")
	}
	if _, ok := a.c.Member("x@test"); ok {
		t.Fatalf("x is a member of a's cluster: %v", names(a.c.Members()))
	}
	if got := names(x.c.Members()); len(got) != 1 || got[0] != "x@test" {
		t.Fatalf("x sees members %v", got)
	}
	if _, err := patterns.NewClient(a.n).Call(ctxT(t, 5*time.Second), exchange.Named("ex-x"), wrapperspb.String("hi")); !errors.Is(err, exchange.ErrExchangeNotFound) {
		t.Fatalf("a found x's exchange: %v", err)
	}
}
