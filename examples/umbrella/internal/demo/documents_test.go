package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
)

// Documents checked by the workers on the worker nodes: a clean one is
// acked at once, one that fails its first two checks is retried and
// acked, one that always fails dies at the delivery limit (4), an
// executable is rejected; both dead ones reach the quarantine worker.
func TestDocumentsAckedRetriedAndDeadLettered(t *testing.T) {
	r := startTestRig(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	producer := patterns.NewTasks(r.self)
	for _, d := range []*documents.Document{
		{Id: "clean", Name: "a.pdf"},
		{Id: "flaky", Name: "b.pdf", FailFirst: 2},
		{Id: "hopeless", Name: "c.pdf", FailFirst: 99},
		{Id: "exe", Name: "d.exe"},
	} {
		if err := documents.Upload(ctx, producer, documents.Config{}, d); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]uint64{
		documents.Checked:                       2, // clean, flaky at its third delivery
		documents.Retried:                       6, // flaky twice, hopeless at each of its 4 deliveries
		documents.Redelivered:                   5, // flaky's 2nd and 3rd, hopeless's 2nd to 4th
		documents.Rejected:                      1,
		documents.DeadPrefix + "delivery_limit": 1,
		documents.DeadPrefix + "rejected":       1,
	}
	eventually(t, 20*time.Second, "the documents settled", func() (bool, string) {
		sts := statusesNow(r)
		ok, msg := true, ""
		for k, v := range want {
			got := sum(sts, k)
			ok = ok && got == v
			msg += fmt.Sprintf("%s %d (want %d); ", k, got, v)
		}
		return ok, msg
	})
	q, err := tasks.Inspect(ctx, r.self, exchange.Named("documents"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Acked != 2 || q.Nacked != 6 || q.Rejected != 1 || q.DeadLettered != 2 || q.Ready+q.InFlight != 0 {
		t.Fatalf("queue counters %+v", q)
	}
	// Nothing more comes: every document was settled once.
	sts := statusesNow(r)
	if got := sum(sts, documents.Checked) + sumPrefix(sts, documents.DeadPrefix); got != 4 {
		t.Fatalf("%d documents settled, want 4", got)
	}
}
