package transport_test

import (
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/internal/wire"
)

func Example() {
	got := make(chan string, 1)
	recv, _ := transport.Listen(transport.Config{
		Listen:   "127.0.0.1:0",
		Cookie:   "the cluster's secret",
		Handler:  func(_ string, f *wire.Frame) { got <- f.To },
		PeerDown: func(string, error) {},
	})
	defer recv.Close()
	send, _ := transport.Listen(transport.Config{
		Listen:   "127.0.0.1:0",
		Cookie:   "the cluster's secret",
		Handler:  func(string, *wire.Frame) {},
		PeerDown: func(string, error) {},
	})
	defer send.Close()

	_ = send.Send(recv.Addr(), &wire.Frame{To: "$1"})
	select {
	case to := <-got:
		fmt.Println("frame for", to)
	case <-time.After(10 * time.Second):
		fmt.Println("no frame within 10 s")
	}
	// Output: frame for $1
}
