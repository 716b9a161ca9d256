package tasks

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// localNode starts a node without a listener, stopped at the test's end,
// and a context for the test's calls, with a 10 s deadline.
func localNode(t *testing.T, name string) (*actor.Node, context.Context) {
	t.Helper()
	n, err := actor.Start(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return n, ctx
}
