package dashboard

import (
	"net/http"
	"time"
)

// events streams the snapshots as server-sent events, one "snapshot"
// event each, until the client goes or the dashboard closes.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if d.ctx.Err() != nil {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	c := d.hub.watch()
	defer d.hub.unwatch(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	// The browser reconnects after retry ms if the stream breaks.
	if _, err := w.Write([]byte("retry: 1000\n\n")); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	for {
		select {
		case b := <-c:
			_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := w.Write(append(append([]byte("event: snapshot\ndata: "), b...), "\n\n"...)); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-d.ctx.Done():
			return
		}
	}
}

// snapshot answers the next snapshot (the latest, if someone is watching)
// as JSON.
func (d *Dashboard) snapshot(w http.ResponseWriter, r *http.Request) {
	if d.ctx.Err() != nil {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	c := d.hub.watch()
	defer d.hub.unwatch(c)
	select {
	case b := <-c:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b)
	case <-r.Context().Done():
	case <-d.ctx.Done():
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
	}
}
