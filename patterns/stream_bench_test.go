package patterns

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
)

// A 256 MiB chunked response in 64 KiB chunks, in one node and from a
// producer on another node over loopback TCP; beside it, 256 MiB written
// over a bare loopback TCP connection in 64 KiB writes.
//
//	go test -run '^$' -bench 'Stream|LoopbackTCP' -benchtime 3x ./patterns

const (
	benchStreamSize = 256 << 20
	benchChunk      = 64 << 10
)

func BenchmarkStream(b *testing.B) {
	for _, remote := range []bool{false, true} {
		for _, window := range []int{16, 64} {
			where := "node"
			if remote {
				where = "nodes"
			}
			b.Run(fmt.Sprintf("%s/window=%d", where, window), func(b *testing.B) {
				cl, ex := benchStreamSetup(b, remote)
				b.SetBytes(benchStreamSize)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					got := 0
					for v, err := range cl.Stream(context.Background(), ex, wrapperspb.String("go"), WithWindow(window)) {
						if err != nil {
							b.Fatal(err)
						}
						got += len(v.(*wrapperspb.BytesValue).Value)
					}
					if got != benchStreamSize {
						b.Fatalf("got %d bytes", got)
					}
				}
			})
		}
	}
}

func benchStreamSetup(b *testing.B, remote bool) (*Client, exchange.Address) {
	server := node(b, "server@localhost", remote)
	startExchange(b, server, exchange.Spec{Name: "blob", Strategy: exchange.RoundRobin})
	block := make([]byte, benchChunk)
	for i := range block {
		block[i] = byte(i)
	}
	h := func(ctx context.Context, _ *exchange.Request, send func(any) error) error {
		for sent := 0; sent < benchStreamSize; sent += benchChunk {
			if err := send(wrapperspb.Bytes(block)); err != nil {
				return err
			}
		}
		return nil
	}
	streamCtrl(b, server, exchange.Local("blob"), h, func(c *StreamController) { c.MaxPayload = benchChunk + 64 })
	if !remote {
		return NewClient(server), exchange.Local("blob")
	}
	return NewClient(node(b, "client@localhost", true)), exchange.At(server.Address(), "blob")
}

func BenchmarkLoopbackTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		block := make([]byte, benchChunk)
		for {
			if _, err := c.Write(block); err != nil {
				done <- nil
				return
			}
		}
	}()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchChunk)
	b.SetBytes(benchStreamSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for got := 0; got < benchStreamSize; {
			n, err := c.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
	b.StopTimer()
	c.Close()
	<-done
}
