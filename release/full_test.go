package release_test

import (
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/release"
)

// testdata/full.toml, the fuzz corpus's richest file, is a valid release.
func TestFullFile(t *testing.T) {
	r, err := release.Load("testdata/full.toml", testApps())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Exchanges) != 4 || r.Exchanges[2].Tasks.MaxDeliveries != 5 || r.Exchanges[1].PubSub.Upstream.Node != "127.0.0.1:7001" ||
		r.Exchanges[0].Request.Idempotency != (exchange.Idempotency{Window: 10 * time.Minute, MaxKeys: 1000}) {
		t.Errorf("exchanges %+v", r.Exchanges)
	}
	if web := r.Apps[1]; !web.Distributed() || len(web.Nodes) != 2 || len(web.Nodes[1]) != 2 {
		t.Errorf("web %+v", web)
	}
}
