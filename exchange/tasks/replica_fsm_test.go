package tasks

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// The replica's FSM reads records off the wire; the state it gives a
// starting queue is the one a segment log's replay (logState.apply) gives
// for the same records, before and after a snapshot and its restore.
func TestReplicaFSMStateIsTheReplaysState(t *testing.T) {
	pay, err := anypb.New(wrapperspb.String("payload"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixNano()
	var data []byte
	add := func(r *taskspb.TaskRecord) { data = appendRecord(data, r) }
	add(&taskspb.TaskRecord{Op: &taskspb.TaskRecord_Head{Head: &taskspb.TaskLogHead{NextId: 5}}})
	for id := uint64(5); id < 60; id++ {
		st := &taskspb.TaskStored{Id: id, Priority: uint32(id % 3), Payload: pay}
		if id%2 == 0 {
			st.Key, st.AtUnixNano = fmt.Sprint("k", id), now+int64(id)
		}
		add(&taskspb.TaskRecord{Op: &taskspb.TaskRecord_Stored{Stored: st}})
	}
	add(&taskspb.TaskRecord{Op: &taskspb.TaskRecord_Done{Done: &taskspb.TaskDone{Ids: []uint64{5, 6, 7, 30, 59, 1000}}}})
	add(&taskspb.TaskRecord{Op: &taskspb.TaskRecord_Key{Key: &taskspb.TaskKeySeen{Key: "old", AtUnixNano: now - 1, Id: 2}}})

	want := logState{live: map[uint64]*taskspb.TaskStored{}, keys: map[string]*taskspb.TaskKeySeen{}}
	for d := data; len(d) > 0; {
		body, rest, err := nextFrame(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := want.apply(body); err != nil {
			t.Fatal(err)
		}
		d = rest
	}
	same := func(what string, got logState) {
		t.Helper()
		if got.lastID != want.lastID || len(got.live) != len(want.live) || len(got.keys) != len(want.keys) {
			t.Fatalf("%s: last id %d, %d live, %d keys; want %d, %d, %d", what, got.lastID, len(got.live), len(got.keys), want.lastID, len(want.live), len(want.keys))
		}
		for id, w := range want.live {
			if !proto.Equal(got.live[id], w) {
				t.Fatalf("%s: task %d: %v, want %v", what, id, got.live[id], w)
			}
		}
		for k, w := range want.keys {
			if !proto.Equal(got.keys[k], w) {
				t.Fatalf("%s: key %q: %v, want %v", what, k, got.keys[k], w)
			}
		}
	}
	fsm := newReplicaFSM(time.Hour)
	if res := fsm.Apply(&raft.Log{Type: raft.LogCommand, Data: data}); res != nil {
		t.Fatal(res)
	}
	same("applied", fsm.state())
	snap, err := fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored := newReplicaFSM(time.Hour)
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snap.(fsmSnapshot)))); err != nil {
		t.Fatal(err)
	}
	got := restored.state()
	for _, k := range got.keys { // a snapshot keeps the keys, not the tasks' times
		if w := want.keys[k.GetKey()]; w != nil {
			k.AtUnixNano = w.GetAtUnixNano()
		}
	}
	same("restored", got)
}
