package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// page is what the dashboard's page shows, read from its DOM: the text
// of its tables, as a user sees it.
type page struct {
	Live      string
	Nodes     []pageNode
	Exchanges []pageExchange
	Queues    []pageQueue
	Pubsub    []pagePubsub
	Apps      []string // "app on node"
}

type pageNode struct{ Name, Status, Links string }
type pageExchange struct{ Name, Node, Leader, Controllers, Rate string }
type pageQueue struct{ Name, Node, Depth string }
type pagePubsub struct{ Name, Node, Upstream string }

const readPage = `(() => {
  const rows = (id) => [...document.querySelectorAll("#" + id + " tbody tr")].filter((r) => r.cells.length > 1);
  const text = (r, i) => r.cells[i].textContent.trim();
  return {
    Live: document.getElementById("live").textContent,
    Nodes: rows("nodes").map((r) => ({Name: text(r, 0), Status: text(r, 1), Links: text(r, 4)})),
    Exchanges: rows("exchanges").map((r) => ({Name: text(r, 0), Node: text(r, 1), Leader: text(r, 3), Controllers: text(r, 4), Rate: text(r, 6)})),
    Queues: rows("queues").map((r) => ({Name: text(r, 0), Node: text(r, 1), Depth: text(r, 2)})),
    Pubsub: rows("pubsub").map((r) => ({Name: text(r, 0), Node: text(r, 1), Upstream: text(r, 6)})),
    Apps: [...document.querySelectorAll("#apps .app")].map((a) => a.dataset.app + " on " + a.dataset.node),
  };
})()`

func (p page) node(name string) (pageNode, bool) {
	i := slices.IndexFunc(p.Nodes, func(n pageNode) bool { return n.Name == name })
	if i < 0 {
		return pageNode{}, false
	}
	return p.Nodes[i], true
}

// awaitPage reads the page until check passes, for at most d.
func awaitPage(t *testing.T, ctx context.Context, d time.Duration, check func(page) error) page {
	t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for {
		p, err := chromedp.Run(ctx, chromedp.Evaluate[page](readPage))
		if err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		if last = check(p); last == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the page shows %+v: %v", d, p, last)
		}
		time.Sleep(50 * time.Millisecond) // polling the browser's DOM, bounded by the deadline
	}
}

// browser starts headless chromium and returns a tab's context. It skips
// the test, saying why, if there is no chromium.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("SWITCHBOARD_CHROMIUM")
	if path == "" {
		for _, b := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(b); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		t.Skip("no chromium to test the dashboard in: scripts/chromium.sh installs Debian's package (scripts/test.sh runs it), or set SWITCHBOARD_CHROMIUM to a Chromium binary")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // as root in a container, chromium's sandbox cannot start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel() // closes the tab and the browser
		acancel()
	})
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	return ctx
}

// screenshot writes the page to $SWITCHBOARD_SCREENSHOTS/name, if set;
// a relative directory is one of the repository (docs: docs/).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SWITCHBOARD_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // the test runs in dashboard/browsertest
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s/%s (%d bytes)", dir, name, len(png))
}

func want(cond bool, format string, args ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}
