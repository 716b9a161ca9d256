package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Documents checked by the workers on the worker nodes: a clean one is
// acked at once, one that fails its first two checks is retried and
// acked, one that always fails dies at the delivery limit (4), an
// executable is rejected; both dead ones reach the quarantine worker.
// The checkers' journal (the key journal, one file for all here) has a
// line for each settlement.
func TestDocumentsAckedRetriedAndDeadLettered(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	t.Setenv(release.EnvVar(documents.CheckerName, documents.JournalKey.Name()), journal)
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
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e documents.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil || !strings.HasPrefix(e.Node, "work-") || e.Time.IsZero() {
			t.Fatalf("journal line %q: %v", line, err)
		}
		got = append(got, e.ID+":"+e.Outcome+":"+e.Cause)
	}
	slices.Sort(got)
	if want := []string{"clean:checked:", "exe:dead:rejected", "exe:rejected:", "flaky:checked:", "hopeless:dead:delivery_limit"}; !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v", got, want)
	}
}

// The task "scan" runs on the worker node the caller picks, through that
// node's task supervisor: a Verdict from that node, a typed error for an
// unknown task.
func TestDocumentsScanOnAChosenNode(t *testing.T) {
	r := startTestRig(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range r.byRole("worker") {
		addr, _ := r.addr(n)
		sup := actor.NamedPID(addr, documents.TaskSupervisorName)
		for _, d := range []*documents.Document{{Id: "a", Name: "a.pdf"}, {Id: "b", Name: "b.exe"}} {
			task, err := supervisor.Async(ctx, r.self, sup, documents.ScanTask, d)
			if err != nil {
				t.Fatal(err)
			}
			v, err := task.Await(ctx)
			if err != nil {
				t.Fatalf("scan of %s on %s: %v", d.GetName(), n, err)
			}
			vd := v.(*documents.Verdict)
			if vd.GetCheckedBy() != n || vd.GetId() != d.GetId() || vd.GetClean() == strings.HasSuffix(d.GetName(), ".exe") {
				t.Fatalf("scan of %s on %s: %v", d.GetName(), n, vd)
			}
		}
		if _, err := supervisor.Run(ctx, r.self, sup, "nosuch", &documents.Document{}); !errors.Is(err, supervisor.ErrUnknownTask) {
			t.Fatalf("an unknown task on %s: %v, want ErrUnknownTask", n, err)
		}
	}
}
