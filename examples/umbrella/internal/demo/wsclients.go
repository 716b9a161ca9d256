package demo

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/access"
)

// followed is how many users the WebSocket clients follow (u0..u9); each
// client follows two of them.
const followed = 10

// wsClients are the demo's WebSocket clients, Config.Clients on each
// access node.
type wsClients struct {
	r       *rig
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	byNode  map[string]*wsNode
	clients []*wsClient
}

type wsNode struct {
	connected atomic.Int64
	updates   atomic.Uint64
}

type wsClient struct {
	node       string
	subscribed atomic.Int64
	updates    atomic.Uint64
	latency    atomic.Int64 // of the last update, ns
}

func newWSClients(r *rig) *wsClients {
	ctx, cancel := context.WithCancel(context.Background())
	return &wsClients{r: r, ctx: ctx, cancel: cancel, byNode: map[string]*wsNode{}}
}

// open connects the clients and waits until each has its two
// subscriptions confirmed.
func (w *wsClients) open(ctx context.Context) error {
	var confirmed sync.WaitGroup
	errs := make(chan error, 1)
	for _, n := range w.r.byRole("access") {
		st, err := w.r.status(ctx, n)
		if err != nil {
			return err
		}
		addr := st.GetFacts()[access.HTTP]
		wn := &wsNode{}
		w.byNode[n] = wn
		for i := range w.r.cfg.Clients {
			c, err := access.Dial(ctx, addr)
			if err != nil {
				return fmt.Errorf("websocket client of %s: %w", n, err)
			}
			wc := &wsClient{node: n}
			w.clients = append(w.clients, wc)
			wn.connected.Add(1)
			confirmed.Add(1)
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				defer wn.connected.Add(-1)
				defer c.Close()
				users := []string{fmt.Sprintf("u%d", i%followed), fmt.Sprintf("u%d", (i+3)%followed)}
				for _, u := range users {
					if err := c.Subscribe(w.ctx, u); err != nil {
						confirmed.Done()
						return
					}
				}
				once := sync.OnceFunc(confirmed.Done)
				defer once()
				for {
					f, err := c.Next(w.ctx)
					if err != nil {
						return
					}
					switch {
					case f.GetSubscribed() != nil:
						if wc.subscribed.Add(1) == int64(len(users)) {
							once()
						}
					case f.GetUpdate() != nil:
						wc.updates.Add(1)
						wn.updates.Add(1)
						wc.latency.Store(time.Now().UnixNano() - f.GetUpdate().GetPublishedUnixNano())
					case f.GetError() != "":
						select {
						case errs <- fmt.Errorf("%s: %s", n, f.GetError()):
						default:
						}
						once() // it will not be confirmed: open fails at once
					}
				}
			}()
		}
	}
	done := make(chan struct{})
	go func() { confirmed.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-errs:
		return fmt.Errorf("websocket subscription: %w", err)
	case <-ctx.Done():
		return fmt.Errorf("websocket subscriptions not confirmed: %w", ctx.Err())
	}
	select {
	case err := <-errs:
		return fmt.Errorf("websocket subscription: %w", err)
	default:
	}
	return nil
}

// close disconnects every client and waits for their goroutines.
func (w *wsClients) close() {
	w.cancel()
	w.wg.Wait()
}

// counts returns per access node: clients connected, updates received.
func (w *wsClients) counts() map[string][2]uint64 {
	out := map[string][2]uint64{}
	for n, wn := range w.byNode {
		out[n] = [2]uint64{uint64(max(wn.connected.Load(), 0)), wn.updates.Load()}
	}
	return out
}

// silent counts clients that received no update.
func (w *wsClients) silent() int {
	n := 0
	for _, c := range w.clients {
		if c.updates.Load() == 0 {
			n++
		}
	}
	return n
}
