package tasks

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/taskspb"
)

func storedRecord(t testing.TB, id uint64, key string) *taskspb.TaskRecord {
	t.Helper()
	a, err := anypb.New(wrapperspb.String(key))
	if err != nil {
		t.Fatal(err)
	}
	return &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Stored{Stored: &taskspb.TaskStored{Id: id, Key: key, AtUnixNano: 1, Payload: a}}}
}

// syncedLog is a log whose syncs the test waits for.
type syncedLog struct {
	*segLog
	mu     sync.Mutex
	synced uint64
	ch     chan struct{}
}

func startLog(t *testing.T, dir string, last uint64) *syncedLog {
	l := &syncedLog{ch: make(chan struct{}, 1000)}
	l.segLog = openLog(dir, last, func(upto uint64, err error) {
		if err != nil {
			t.Errorf("log write: %v", err)
		}
		l.mu.Lock()
		l.synced = upto
		l.mu.Unlock()
		l.ch <- struct{}{}
	})
	return l
}

func (l *syncedLog) waitFor(t *testing.T, seq uint64) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		done := l.synced >= seq
		l.mu.Unlock()
		if done {
			return
		}
		select {
		case <-l.ch:
		case <-deadline:
			t.Fatalf("commit %d not synced within 10 s", seq)
		}
	}
}

// A crash leaves a torn frame at the end of the log: replay keeps every
// intact record before it and reports the torn tail; a snapshot then
// starts a new segment and removes the old ones.
func TestLogReplayStopsAtTornTailAndSnapshotCompacts(t *testing.T) {
	dir := t.TempDir()
	l := startLog(t, dir, 0)
	var buf []byte
	for i := uint64(1); i <= 10; i++ {
		buf = appendRecord(buf, storedRecord(t, i, "k"))
	}
	buf = appendRecord(buf, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Done{Done: &taskspb.TaskDone{Ids: []uint64{2, 3}}}})
	l.waitFor(t, l.append(buf))
	l.close()
	seg := filepath.Join(dir, segName(1))
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := appendRecord(nil, storedRecord(t, 11, "torn"))
	if _, err := f.Write(torn[:len(torn)-3]); err != nil {
		t.Fatal(err)
	}
	f.Close()

	st, err := replayState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.live) != 8 || st.live[2] != nil || st.live[11] != nil || st.lastID != 10 || st.torn != 1 || st.last != 1 {
		t.Fatalf("replayed %d live tasks, last id %d, %d torn, last segment %d; want 8, 10, 1, 1", len(st.live), st.lastID, st.torn, st.last)
	}

	l = startLog(t, dir, st.last)
	snap := appendRecord(nil, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Head{Head: &taskspb.TaskLogHead{NextId: 21}}})
	snap = appendRecord(snap, storedRecord(t, 5, "k5"))
	l.rotate(snap)
	l.waitFor(t, l.append(appendRecord(nil, storedRecord(t, 21, "k21"))))
	l.close()
	nos, err := segments(dir)
	if err != nil || len(nos) != 1 || nos[0] != 2 {
		t.Fatalf("segments after the snapshot: %v (%v); want only the second", nos, err)
	}
	st, err = replayState(dir)
	if err != nil || len(st.live) != 2 || st.live[5] == nil || st.live[21] == nil || st.lastID != 21 || st.torn != 0 {
		t.Fatalf("after the snapshot: %d live, last id %d, torn %d, err %v", len(st.live), st.lastID, st.torn, err)
	}
}

// A record whose frame is intact but whose body is no TaskRecord is
// ErrStore, not a panic; any bytes at all replay without panicking.
func FuzzReplaySegment(f *testing.F) {
	f.Add(appendRecord(nil, storedRecord(f, 1, "k")))
	f.Add(appendFrame(nil, []byte{0xff, 0xff, 0xff}))
	f.Add(append(appendRecord(nil, storedRecord(f, 7, "x")), 1, 2, 3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segName(1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := replayState(dir)
		if err == nil && st.last != 1 {
			t.Fatalf("last segment %d", st.last)
		}
	})
}
