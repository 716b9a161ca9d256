package ops

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Server is an HTTP server of its own for an operations endpoint, from
// Listen.
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// Listen serves h (an *Ops, or a mux that mounts one) on addr (host:port;
// port 0 picks a free one) until Close.
func Listen(addr string, h http.Handler) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, addr: l.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(l)
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// Close stops the server: it waits for requests in flight until ctx ends,
// then closes their connections, and returns once its goroutine has
// ended.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
