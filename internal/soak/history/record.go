package history

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Types of records.
const (
	TypeOp         = "op"         // an operation: Invoke, Complete, Outcome
	TypeEffect     = "effect"     // a service applied the effect of Key
	TypeDelivery   = "delivery"   // Client received the event ID
	TypeFault      = "fault"      // a fault of Kind on Nodes, from Invoke to Complete
	TypeInstance   = "instance"   // App's instance on Node started (Kind "start") or stopped ("stop")
	TypeMembership = "membership" // Node saw Members up
	TypeSample     = "sample"     // Node's goroutines and heap
)

// Kinds of operations.
const (
	OpRequest   = "request"   // a request with a deadline
	OpKeyed     = "keyed"     // a request with an idempotency key
	OpPublish   = "publish"   // a publish of event ID on routing key Key
	OpSubscribe = "subscribe" // Client subscribes with pattern Key; Complete is the confirmation
	OpTask      = "task"      // a durable task with key Key; OutcomeOK is the confirm
	OpStream    = "stream"    // a chunked response of Want chunks: Chunks came, InOrder of them in order
)

// Outcomes of operations.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// ErrUntyped is the Err of a failure that matched none of the typed errors:
// the checker reports it.
const ErrUntyped = "untyped"

// ErrTimeout is the Err of a failure that is the client's own deadline
// passing with no answer (actor.ErrTimeout): the checker reports one that
// no fault explains (RuleCalmTimeout).
const ErrTimeout = "timeout"

// Record is one line of a history. Which fields count depends on Type.
type Record struct {
	Type     string    `json:"type"`
	ID       string    `json:"id,omitempty"`       // operation or event id
	Kind     string    `json:"kind,omitempty"`     // operation, fault or instance kind
	Client   string    `json:"client,omitempty"`   // who invoked, or the subscriber
	Node     string    `json:"node,omitempty"`     // the node of the client, effect, instance or sample
	Nodes    []string  `json:"nodes,omitempty"`    // a fault's nodes; the nodes holding an operation's exchange
	Exchange string    `json:"exchange,omitempty"` // the exchange an operation went to
	App      string    `json:"app,omitempty"`      // a distributed application (an instance's; a volatile task's queue's)
	Key      string    `json:"key,omitempty"`      // idempotency key, routing key or pattern
	Invoke   time.Time `json:"invoke,omitzero"`    // when an operation or fault began; when other records happened
	Complete time.Time `json:"complete,omitzero"`  // when it ended; zero if never
	Deadline time.Time `json:"deadline,omitzero"`  // an operation's deadline
	Outcome  string    `json:"outcome,omitempty"`
	Err      string    `json:"err,omitempty"`      // a failure's typed error (its name), or ErrUntyped
	Members  []string  `json:"members,omitempty"`  // a membership view
	Want     int       `json:"want,omitempty"`     // a stream's chunks asked for
	Chunks   int       `json:"chunks,omitempty"`   // a stream's chunks received
	InOrder  int       `json:"in_order,omitempty"` // of those, how many came in order before the first that did not
	Backlog  int       `json:"backlog,omitempty"`  // a kill's: the tasks its node's queue held when killed
	// Volatile marks a task to a queue that keeps its tasks in memory,
	// run by the distributed application App: a task it confirmed is lost
	// with the instance holding it, see Config.Volatile.
	Volatile bool   `json:"volatile,omitempty"`
	Gor      int    `json:"goroutines,omitempty"`
	Heap     uint64 `json:"heap,omitempty"`
}

// ErrBadRecord is returned by Read for a line that is not a record.
var ErrBadRecord = errors.New("history: bad record")

// MaxLine bounds a line of a history file.
const MaxLine = 64 << 10

// Read decodes a history, one JSON record per line; empty lines are skipped.
func Read(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	var out []Record
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return out, fmt.Errorf("%w: line %d: %v", ErrBadRecord, line, err)
		}
		if err := rec.valid(); err != nil {
			return out, fmt.Errorf("%w: line %d: %v", ErrBadRecord, line, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%w: line %d: %v", ErrBadRecord, line+1, err)
	}
	return out, nil
}

func (r Record) valid() error {
	switch r.Type {
	case TypeOp:
		if r.ID == "" || r.Kind == "" {
			return errors.New("an operation needs an id and a kind")
		}
	case TypeEffect, TypeDelivery, TypeFault, TypeInstance, TypeMembership, TypeSample:
	default:
		return fmt.Errorf("unknown type %q", r.Type)
	}
	return nil
}

// Writer appends records to a history; safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

// NewWriter writes records to w; call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriter(w)
	return &Writer{w: bw, enc: json.NewEncoder(bw)}
}

// Add appends a record; the first write error is kept and returned by Flush.
func (w *Writer) Add(r Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = w.enc.Encode(r)
	}
}

// Flush writes what is buffered and returns the first error.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}
