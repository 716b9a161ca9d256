package tasks

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// replicaFSM is a replica's copy of its queue's state: it applies the
// same records as a segment log's replay (tasks stored, done, keys), in
// the order Raft committed them, on every member. Every member applies
// every record, and a queue reads the state only when it starts there:
// so a stored task is kept as its record's bytes (the fields the state
// needs read off the wire, the payload not decoded), and decoded in
// state.
type replicaFSM struct {
	keyWindow time.Duration
	bad       atomic.Uint64 // entries with a torn frame or an undecodable record

	mu sync.Mutex
	st fsmState
}

// fsmState is the state of a replica: live tasks as marshalled
// TaskStored, the keys, the highest id issued.
type fsmState struct {
	live   map[uint64][]byte
	keys   map[string]keySeen
	lastID uint64
}

type keySeen struct {
	at int64
	id uint64
}

func newFSMState() fsmState {
	return fsmState{live: map[uint64][]byte{}, keys: map[string]keySeen{}}
}

func newReplicaFSM(keyWindow time.Duration) *replicaFSM {
	return &replicaFSM{keyWindow: keyWindow, st: newFSMState()}
}

// The field numbers of taskspb.TaskRecord's oneof and of the records in it.
const (
	recStored, recDone, recKey, recHead = 1, 2, 3, 4
	storedID, storedKey, storedAt       = 1, 3, 4
	seenKey, seenAt, seenID             = 1, 2, 3
	doneIDs, headNextID                 = 1, 1
)

var errRecord = fmt.Errorf("%w: record does not decode", ErrStore)

// applyFrames applies every record of data, a sequence of frames, to st.
func (st *fsmState) applyFrames(data []byte) error {
	for len(data) > 0 {
		body, rest, err := nextFrame(data)
		if err != nil {
			return err
		}
		if err := st.apply(body); err != nil {
			return err
		}
		data = rest
	}
	return nil
}

// apply applies one record (a TaskRecord's wire bytes), as logState.apply
// does, reading only the fields it needs.
func (st *fsmState) apply(rec []byte) error {
	return eachField(rec, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil // no such field in a TaskRecord: skipped, as proto would keep it unknown
		}
		switch num {
		case recStored:
			return st.stored(v)
		case recDone:
			return eachField(v, func(num protowire.Number, typ protowire.Type, b []byte, x uint64) error {
				switch {
				case num != doneIDs:
				case typ == protowire.VarintType:
					delete(st.live, x)
				case typ == protowire.BytesType: // packed
					for len(b) > 0 {
						id, n := protowire.ConsumeVarint(b)
						if n < 0 {
							return errRecord
						}
						delete(st.live, id)
						b = b[n:]
					}
				}
				return nil
			})
		case recKey:
			var key []byte
			var k keySeen
			err := eachField(v, func(num protowire.Number, typ protowire.Type, b []byte, x uint64) error {
				switch {
				case num == seenKey && typ == protowire.BytesType:
					key = b
				case num == seenAt && typ == protowire.VarintType:
					k.at = int64(x)
				case num == seenID && typ == protowire.VarintType:
					k.id = x
				}
				return nil
			})
			if err != nil {
				return err
			}
			st.keys[string(key)] = k
		case recHead:
			return eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				if num == headNextID && typ == protowire.VarintType && x > 0 {
					st.lastID = max(st.lastID, x-1)
				}
				return nil
			})
		}
		return nil
	})
}

// stored applies a TaskStored (its wire bytes v): kept as they are.
func (st *fsmState) stored(v []byte) error {
	var id uint64
	var key []byte
	var at int64
	err := eachField(v, func(num protowire.Number, typ protowire.Type, b []byte, x uint64) error {
		switch {
		case num == storedID && typ == protowire.VarintType:
			id = x
		case num == storedKey && typ == protowire.BytesType:
			key = b
		case num == storedAt && typ == protowire.VarintType:
			at = int64(x)
		}
		return nil
	})
	if err != nil {
		return err
	}
	st.live[id] = bytes.Clone(v)
	st.lastID = max(st.lastID, id)
	if len(key) > 0 && at != 0 { // a snapshot's tasks have their keys' times in its TaskKeySeen
		st.keys[string(key)] = keySeen{at: at, id: id}
	}
	return nil
}

// eachField calls f with every field of the message m: its number, wire
// type, and its bytes (BytesType) or value (VarintType, Fixed32Type,
// Fixed64Type); groups are skipped. Wire data that does not parse is
// errRecord.
func eachField(m []byte, f func(protowire.Number, protowire.Type, []byte, uint64) error) error {
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		if n < 0 {
			return errRecord
		}
		m = m[n:]
		var b []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(m)
		case protowire.BytesType:
			b, n = protowire.ConsumeBytes(m)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(m)
			x = uint64(v)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(m)
		default:
			n = protowire.ConsumeFieldValue(num, typ, m)
		}
		if n < 0 {
			return errRecord
		}
		m = m[n:]
		if err := f(num, typ, b, x); err != nil {
			return err
		}
	}
	return nil
}

// Apply applies one committed entry: the records of one or more of the
// queue's mailbox runs.
func (f *replicaFSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	f.mu.Lock()
	err := f.st.applyFrames(l.Data)
	f.mu.Unlock()
	if err != nil {
		f.bad.Add(1)
	}
	return err
}

// state decodes the state for a queue starting on this member. A stored
// task that does not decode is left out (and counted).
func (f *replicaFSM) state() logState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := logState{live: make(map[uint64]*taskspb.TaskStored, len(f.st.live)), keys: make(map[string]*taskspb.TaskKeySeen, len(f.st.keys)), lastID: f.st.lastID}
	for id, b := range f.st.live {
		t := &taskspb.TaskStored{}
		if err := proto.Unmarshal(b, t); err != nil {
			f.bad.Add(1)
			continue
		}
		st.live[id] = t
	}
	for k, e := range f.st.keys {
		st.keys[k] = &taskspb.TaskKeySeen{Key: k, AtUnixNano: e.at, Id: e.id}
	}
	return st
}

// appendRawRecord appends, as a frame, a TaskRecord whose field num holds
// the marshalled message body.
func appendRawRecord(buf []byte, num protowire.Number, body []byte) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0) // the header, once the body is there
	buf = protowire.AppendTag(buf, num, protowire.BytesType)
	buf = protowire.AppendBytes(buf, body)
	putHeader(buf[start:], buf[start+frameHeader:])
	return buf
}

// Snapshot forgets the keys past their window and writes what is live as
// records, as a segment log's snapshot.
func (f *replicaFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UnixNano()
	buf := appendRecord(nil, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Head{Head: &taskspb.TaskLogHead{NextId: f.st.lastID + 1}}})
	for _, t := range f.st.live {
		buf = appendRawRecord(buf, recStored, t)
	}
	for k, e := range f.st.keys {
		if e.at+int64(f.keyWindow) <= now {
			delete(f.st.keys, k)
			continue
		}
		buf = appendRecord(buf, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Key{Key: &taskspb.TaskKeySeen{Key: k, AtUnixNano: e.at, Id: e.id}}})
	}
	return fsmSnapshot(buf), nil
}

// Restore replaces the state with a snapshot's.
func (f *replicaFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	st := newFSMState()
	if err := st.applyFrames(data); err != nil {
		return err
	}
	f.mu.Lock()
	f.st = st
	f.mu.Unlock()
	return nil
}

type fsmSnapshot []byte

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (fsmSnapshot) Release() {}
