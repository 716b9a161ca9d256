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
// producer on another node over loopback TCP, with windows of 16 and 64
// chunks; 16 MiB in 1 KiB chunks, for the cost of a chunk; beside them,
// 256 MiB written over a bare loopback TCP connection in 64 KiB writes.
//
//	go test -run '^$' -bench 'Stream|LoopbackTCP' -benchtime 3x ./patterns

const benchStreamSize = 256 << 20

func BenchmarkStream(b *testing.B) {
	shapes := []struct{ chunk, total, window int }{
		{64 << 10, benchStreamSize, 16},
		{64 << 10, benchStreamSize, 64},
		{1 << 10, 16 << 20, 64},
	}
	for _, remote := range []bool{false, true} {
		for _, s := range shapes {
			where := "node"
			if remote {
				where = "nodes"
			}
			b.Run(fmt.Sprintf("%s/chunk=%dKiB/window=%d", where, s.chunk>>10, s.window), func(b *testing.B) {
				cl, ex := benchStreamSetup(b, remote, s.chunk, s.total)
				b.SetBytes(int64(s.total))
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					got := 0
					for v, err := range cl.Stream(context.Background(), ex, wrapperspb.String("go"), WithWindow(s.window)) {
						if err != nil {
							b.Fatal(err)
						}
						got += len(v.(*wrapperspb.BytesValue).Value)
					}
					if got != s.total {
						b.Fatalf("got %d bytes", got)
					}
				}
				b.ReportMetric(float64(b.N*s.total/s.chunk)/time.Since(start).Seconds(), "chunks/s")
			})
		}
	}
}

func benchStreamSetup(b *testing.B, remote bool, chunk, total int) (*Client, exchange.Address) {
	server := node(b, "server@localhost", remote)
	startExchange(b, server, exchange.Spec{Name: "blob", Strategy: exchange.RoundRobin})
	block := make([]byte, chunk)
	for i := range block {
		block[i] = byte(i)
	}
	h := func(ctx context.Context, _ *exchange.Request, send func(any) error) error {
		for sent := 0; sent < total; sent += chunk {
			if err := send(wrapperspb.Bytes(block)); err != nil {
				return err
			}
		}
		return nil
	}
	streamCtrl(b, server, exchange.Named("blob"), h)
	if !remote {
		return NewClient(server), exchange.Named("blob")
	}
	return NewClient(node(b, "client@localhost", true)), exchange.At(server.Address(), "blob")
}

func BenchmarkLoopbackTCP(b *testing.B) {
	const chunk = 64 << 10
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
		block := make([]byte, chunk)
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
	buf := make([]byte, chunk)
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
