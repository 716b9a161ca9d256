package tasks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// reloadFrames frames data as records with intact CRCs, so that fuzzed
// bytes reach the records' and payloads' decoders rather than stopping
// at the frame check: each body is one length byte and that many bytes
// (fewer at the end).
func reloadFrames(data []byte) []byte {
	var seg []byte
	for len(data) > 0 {
		n := min(int(data[0]), len(data)-1)
		seg = appendFrame(seg, data[1:1+n])
		data = data[1+n:]
	}
	return seg
}

// reloadBodies is the inverse of reloadFrames for the seeds.
func reloadBodies(t testing.TB, recs ...*taskspb.TaskRecord) []byte {
	t.Helper()
	var data []byte
	for _, r := range recs {
		b, err := proto.Marshal(r)
		if err != nil || len(b) > 255 {
			t.Fatalf("seed record: %d bytes, %v", len(b), err)
		}
		data = append(append(data, byte(len(b))), b...)
	}
	return data
}

// A durable queue started on a directory of hostile bytes (its segment
// log, as a crash, a disk or another program left it) either refuses to
// start with ErrStore or starts with every task the log holds either
// restored or, when its payload does not decode on this node,
// dead-lettered; nothing panics. What the queue then writes (its
// snapshot) it reads back: a second start restores the same tasks. This
// is the server's reload path (replayState, load, restore, decodeStored)
// that a replicated queue runs too on its FSM's state (FuzzReplicaFSM
// covers the FSM's decoding).
//
// framed=true frames the input as records with intact CRCs (see
// reloadFrames); framed=false writes it as the segment, as is.
func FuzzReloadQueue(f *testing.F) {
	str := func(s string) *anypb.Any {
		a, err := anypb.New(&taskspb.TaskKeySeen{Key: s})
		if err != nil {
			f.Fatal(err)
		}
		return a
	}
	stored := func(id uint64, key string, p *anypb.Any) *taskspb.TaskRecord {
		return &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Stored{Stored: &taskspb.TaskStored{Id: id, Key: key, AtUnixNano: 1, Priority: 2, Payload: p}}}
	}
	done := &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Done{Done: &taskspb.TaskDone{Ids: []uint64{1}}}}
	key := &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Key{Key: &taskspb.TaskKeySeen{Key: "k", AtUnixNano: time.Now().UnixNano(), Id: 3}}}
	head := &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Head{Head: &taskspb.TaskLogHead{NextId: 9}}}
	unknown := &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type", Value: []byte{1, 2}}
	broken := str("b")
	broken.Value = []byte{0xff}

	f.Add(reloadBodies(f, head, stored(1, "a", str("a")), stored(2, "", str("b")), done, key), true)
	f.Add(reloadBodies(f, stored(4, "u", unknown), stored(5, "", broken), stored(6, "", nil)), true)
	f.Add(reloadBodies(f, stored(^uint64(0), "max", str("m")), &taskspb.TaskRecord{}), true)
	f.Add([]byte{3, 0xff, 0xff, 0xff}, true)
	f.Add(appendRecord(appendRecord(nil, stored(1, "a", str("a"))), done), false)
	f.Add(append(appendRecord(nil, stored(7, "x", str("x"))), 1, 2, 3), false)
	f.Add([]byte{}, false)

	n, err := actor.Start(actor.Config{Name: "reload@localhost", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = n.Stop(context.Background()) })

	f.Fuzz(func(t *testing.T, data []byte, framed bool) {
		if framed {
			data = reloadFrames(data)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segName(1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		want, replayErr := replayState(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		open := func() *taskspb.TaskQueueStats {
			pid, err := n.Spawn(ctx, newTasksServer(Spec{Name: "reload", Dir: dir, MaxQueue: Unlimited}))
			if replayErr != nil {
				if !errors.Is(err, ErrStore) {
					t.Fatalf("start on a log that does not replay (%v): %v, want ErrStore", replayErr, err)
				}
				return nil
			}
			if err != nil {
				t.Fatalf("start on a log that replays: %v", err)
			}
			v, err := n.Call(ctx, pid, &taskspb.TaskInspect{})
			if err != nil {
				t.Fatal(err)
			}
			if err := n.StopProcess(ctx, pid, nil); err != nil {
				t.Fatal(err)
			}
			return v.(*taskspb.TaskQueueStats)
		}
		first := open()
		if first == nil {
			return
		}
		if got := first.GetRestored() + first.GetDeadLettered(); got != uint64(len(want.live)) {
			t.Fatalf("%d live tasks in the log, %d restored and %d dead-lettered", len(want.live), first.GetRestored(), first.GetDeadLettered())
		}
		again, err := replayState(dir)
		if err != nil {
			t.Fatalf("the queue's own log does not replay: %v", err)
		}
		replayErr = nil
		second := open()
		if second.GetRestored() != first.GetRestored() || uint64(len(again.live)) < first.GetRestored() {
			t.Fatalf("second start restored %d (log %d live), first %d", second.GetRestored(), len(again.live), first.GetRestored())
		}
	})
}
