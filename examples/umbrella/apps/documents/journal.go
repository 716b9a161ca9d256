package documents

import (
	"encoding/json"
	"os"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// Outcomes of a settled document, as a journal records them.
const (
	OutcomeChecked  = "checked"  // acked: checked and clean
	OutcomeRejected = "rejected" // rejected at once (dead-lettered)
	OutcomeDead     = "dead"     // quarantined from the dead-letter queue (Entry.Cause says why)
)

// Entry is one line of a checker node's journal (the key journal): a
// document settled, written before the checker acks or rejects it, so
// that a node killed in between leaves the line (and the document is
// delivered again: a document may have several lines, one per
// settlement, and its effect, a verdict, is the same each time).
type Entry struct {
	ID      string    `json:"id"`
	Outcome string    `json:"outcome"`
	Cause   string    `json:"cause,omitempty"` // a dead letter's: delivery_limit, rejected, bad_payload
	Node    string    `json:"node"`
	Time    time.Time `json:"time"`
}

// journal appends entries to a file, one JSON line each, in one write:
// safe for concurrent use and across processes (O_APPEND). A nil journal
// records nothing.
type journal struct {
	mu   sync.Mutex
	path string
	node string
}

func openJournal(path, node string) *journal {
	if path == "" {
		return nil
	}
	return &journal{path: path, node: node}
}

// add records e; an error is returned so that the caller can leave the
// document unsettled (it is delivered again) rather than settle it
// unrecorded.
func (j *journal) add(e Entry) error {
	if j == nil {
		return nil
	}
	e.Node, e.Time = j.node, time.Now()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// deadEntry is the journal entry of a dead letter whose payload is a
// Document ("" id if it is not one).
func deadEntry(dl *tasks.DeadLetter) Entry {
	e := Entry{Outcome: OutcomeDead, Cause: causeName(dl.GetCause())}
	var doc Document
	if p := dl.GetPayload(); p != nil && p.UnmarshalTo(&doc) == nil {
		e.ID = doc.GetId()
	}
	return e
}
