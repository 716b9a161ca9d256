package actor

import (
	"errors"
	"io"
	"testing"

	"github.com/switchboard-go/switchboard/internal/transport"
)

// A call waiting on a node that goes away gets a *NodeDownError naming
// it; across nodes its text says so once, and it still is ErrNodeDown.
func TestNodeDownErrorNamesTheNode(t *testing.T) {
	n := newNode(t, Config{})
	for _, why := range []error{io.EOF, transport.ErrDisconnected} {
		pend := n.NewPending(ctxT(t), "10.0.0.1:4000", false)
		n.peerDown("10.0.0.1:4000", why)
		_, err := pend.Wait(ctxT(t))
		pend.Release()
		var down *NodeDownError
		if !errors.Is(err, ErrNodeDown) || !errors.As(err, &down) || down.Address != "10.0.0.1:4000" {
			t.Fatalf("after %v: %v; want a *NodeDownError naming 10.0.0.1:4000", why, err)
		}
		if why == transport.ErrDisconnected && !errors.Is(err, transport.ErrDisconnected) {
			t.Fatalf("the reason is lost: %v", err)
		}
		remote := decodeError(encodeError(err))
		if !errors.Is(remote, ErrNodeDown) || remote.Error() != err.Error() {
			t.Fatalf("across nodes %q becomes %q", err, remote)
		}
	}
	if got := decodeError(encodeError(ErrNodeDown)); got != ErrNodeDown {
		t.Fatalf("the sentinel across nodes: %v", got)
	}
}
