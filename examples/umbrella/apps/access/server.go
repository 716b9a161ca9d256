package access

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/internal/stats"
)

// server is the HTTP server as a gen_server: Init listens and serves,
// Terminate ends the server and every WebSocket connection, and returns
// once their goroutines have.
type server struct {
	actor.BaseServer
	cfg    Config
	st     *stats.Set
	node   *actor.Node
	srv    *http.Server
	ctx    context.Context
	cancel context.CancelFunc
	seq    atomic.Uint64

	mu     sync.Mutex
	closed bool           // set by Terminate: no handler starts after it
	wg     sync.WaitGroup // the server's goroutine and the handlers
}

func (s *server) Init(p *actor.Process) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	s.node = p.Node()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.serveWS)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.st.SetFact(HTTP, ln.Addr().String())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.node.Logger().Warn("access: http server", "err", err)
		}
	}()
	return nil
}

func (s *server) Terminate(*actor.Process, error) {
	s.st.SetFact(HTTP, "")
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel() // ends every connection's handler
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.wg.Wait()
}

// serveWS serves one WebSocket client until it goes or the server stops.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "stopping", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept answered the client
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	s.st.Add(Clients, 1)
	s.st.Add(Connections, 1)
	defer s.st.Add(Clients, -1)
	conn := &connection{s: s, ws: c, id: "c" + itoa(s.seq.Add(1)), events: make(chan []byte, s.cfg.Buffer)}
	conn.serve(ctx)
}

func itoa(u uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			return string(b[i:])
		}
	}
}
