package tasks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/internal/taskspb"
)

// durable is a durable queue's side of its log (segLog): the records of
// the current mailbox run, the submissions waiting for their commit to be
// synced, the replay at start and the snapshots that compact the log.
// It runs on the queue's goroutine; only the log's writer has one of its
// own.
type durable struct {
	s        *tasksServer
	log      taskLog
	buf      []byte // records of this mailbox run, not yet appended
	appended uint64 // the last commit appended
	synced   uint64 // the last commit synced
	final    atomic.Uint64
	waiting  []confirmWait
	held     []heldTask // a replicated queue's tasks waiting for their commit before delivery
	failed   error

	segmentBytes int64  // a segment larger than this is compacted by a snapshot
	lastSnap     int64  // the size of the last snapshot
	snapSeq      uint64 // the commit of the snapshot being written, 0 if none
}

// heldTask is a task of a replicated queue whose record commit seq
// commits.
type heldTask struct {
	t   *task
	seq uint64
}

// confirmWait is a submission whose confirm waits for commit seq.
type confirmWait struct {
	seq uint64
	rt  actor.ReplyTo
}

// tasksSynced is the log writer's report to the queue: commits up to upto
// are synced, or writing failed with err.
type tasksSynced struct {
	upto uint64
	err  error
}

// defaultSegmentBytes is the segment size past which a durable queue
// writes a snapshot of its live tasks into a new segment and removes the
// old ones.
const defaultSegmentBytes = 64 << 20

var marshal = proto.MarshalOptions{}

// openDurable replays the log in dir into s's queue and key window and
// starts the writer with a snapshot of what was live.
func openDurable(s *tasksServer, dir string, now int64) (*durable, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	d := &durable{s: s, segmentBytes: defaultSegmentBytes}
	st, err := replayState(dir)
	if err != nil {
		return nil, err
	}
	if st.torn > 0 {
		s.p.Node().Logger().Info("task queue log had a torn tail (writes not synced before a crash)", "exchange", s.spec.Name, "dir", dir, "segments", st.torn)
	}
	s.load(st, now)
	p := s.p
	d.log = openLog(dir, st.last, func(upto uint64, err error) {
		if err == nil {
			d.final.Store(upto)
		}
		_ = p.Send(p.Self(), tasksSynced{upto: upto, err: err})
	})
	d.snapshot()
	return d, nil
}

// ReplicaLeadTimeout bounds how long a replicated queue's start waits
// for its replica to lead the group.
const ReplicaLeadTimeout = 30 * time.Second

// openReplicated takes the lead of r's group, rebuilds s from the
// replica's state (every record committed before) and sends the queue's
// records to the group from then on.
func openReplicated(s *tasksServer, r *Replica, now int64) (*durable, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ReplicaLeadTimeout)
	defer cancel()
	r.active.Add(1) // until Terminate: a yielded member waits while a queue runs here
	s.replicaActive = true
	if err := r.lead(ctx); err != nil {
		r.active.Add(-1)
		s.replicaActive = false
		return nil, err
	}
	r.queue.Store(s.p.Self())
	d := &durable{s: s, segmentBytes: defaultSegmentBytes}
	s.load(r.fsm.state(), now)
	p := s.p
	d.log = openRaftLog(r, func(upto uint64, err error) {
		if err == nil {
			d.final.Store(upto)
		}
		_ = p.Send(p.Self(), tasksSynced{upto: upto, err: err})
	})
	return d, nil
}

// load puts a replayed state in s: its tasks in the queue, its keys
// still in their window in the key window.
func (s *tasksServer) load(st logState, now int64) {
	live, keys, lastID := st.live, st.keys, st.lastID
	s.restore(live, lastID)
	ks := make([]*taskspb.TaskKeySeen, 0, len(keys))
	for _, k := range keys {
		if k.GetAtUnixNano()+int64(s.spec.DedupWindow) > now {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b *taskspb.TaskKeySeen) int { return cmp.Compare(a.GetAtUnixNano(), b.GetAtUnixNano()) })
	for _, k := range ks {
		s.keyWindow().add(k.GetKey(), k.GetAtUnixNano(), k.GetId(), 0)
	}
}

// logState is what replaying a log finds: the live tasks, the keys, the
// highest id issued, the last segment and how many segments had a torn
// tail.
type logState struct {
	live   map[uint64]*taskspb.TaskStored
	keys   map[string]*taskspb.TaskKeySeen
	lastID uint64
	last   uint64
	torn   int
}

// replayState replays the log in dir. A record that is intact (its CRC
// holds) but does not decode is ErrStore: the log is not one this code
// wrote.
func replayState(dir string) (logState, error) {
	st := logState{live: map[uint64]*taskspb.TaskStored{}, keys: map[string]*taskspb.TaskKeySeen{}}
	var err error
	st.last, st.torn, err = replayLog(dir, st.apply)
	if err != nil {
		return logState{}, fmt.Errorf("%w: replaying %s: %w", ErrStore, dir, err)
	}
	return st, nil
}

// apply applies one record (the body of a frame) to st. A record that
// does not decode is ErrStore.
func (st *logState) apply(body []byte) error {
	var r taskspb.TaskRecord
	if err := proto.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("%w: record: %w", ErrStore, err)
	}
	switch op := r.GetOp().(type) {
	case *taskspb.TaskRecord_Stored:
		t := op.Stored
		st.live[t.GetId()] = t
		st.lastID = max(st.lastID, t.GetId())
		if t.GetKey() != "" && t.GetAtUnixNano() != 0 { // a snapshot's tasks have their keys' times in its TaskKeySeen
			st.keys[t.GetKey()] = &taskspb.TaskKeySeen{Key: t.GetKey(), AtUnixNano: t.GetAtUnixNano(), Id: t.GetId()}
		}
	case *taskspb.TaskRecord_Done:
		for _, id := range op.Done.GetIds() {
			delete(st.live, id)
		}
	case *taskspb.TaskRecord_Key:
		st.keys[op.Key.GetKey()] = op.Key
	case *taskspb.TaskRecord_Head:
		if n := op.Head.GetNextId(); n > 0 {
			st.lastID = max(st.lastID, n-1)
		}
	}
	return nil
}

// restore puts the tasks replayed from the log back in the queue, in id
// order. They count as delivered once (they may have been, before the
// restart): their next delivery is flagged redelivered. A payload this
// node cannot decode is dead-lettered.
func (s *tasksServer) restore(live map[uint64]*taskspb.TaskStored, lastID uint64) {
	ids := make([]uint64, 0, len(live))
	for id := range live {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	q := s.q
	q.nextID = max(q.nextID, lastID)
	for _, id := range ids {
		r := live[id]
		t := q.alloc()
		t.id, t.enc, t.prio, t.deliveries, t.key = id, r.GetPayload(), uint8(min(int(r.GetPriority()), len(q.ready.levels)-1)), 1, r.GetKey()
		msg, err := decodeStored(r.GetPayload())
		if err != nil {
			q.kill(t, DeadCause_DEAD_CAUSE_BAD_PAYLOAD, "stored task not decodable after a restart: "+err.Error())
			continue
		}
		t.msg = msg
		q.ready.pushBack(t)
		q.stats.Restored++
	}
}

func decodeStored(a *anypb.Any) (proto.Message, error) {
	if a == nil {
		return nil, fmt.Errorf("%w: no payload", ErrStore)
	}
	return a.UnmarshalNew()
}

// stored records a task the queue took and returns the commit that will
// sync it.
func (d *durable) stored(id uint64, prio int, key string, at int64, enc *anypb.Any) uint64 {
	d.s.q.stats.Stored++
	d.record(&taskspb.TaskRecord{Op: &taskspb.TaskRecord_Stored{Stored: &taskspb.TaskStored{
		Id: id, Priority: uint32(prio), Key: key, AtUnixNano: at, Payload: enc}}})
	return d.appended + 1
}

// record appends r, framed, to the records of this mailbox run.
func (d *durable) record(r *taskspb.TaskRecord) {
	d.buf = appendRecord(d.buf, r)
}

// taskLog is where a durable queue's records go: its own segment log
// (Spec.Dir) or a Raft group (Spec.Replica). append and rotate return
// the commit that makes their records durable; the log reports commits
// done to the queue (tasksSynced).
type taskLog interface {
	append(data []byte) uint64
	rotate(snap []byte) uint64
	segmentSize() int64
	syncCount() uint64
	close()
}

// appendRecord appends r as a frame to buf.
func appendRecord(buf []byte, r *taskspb.TaskRecord) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0) // the header, once the body is there
	buf, _ = marshal.MarshalAppend(buf, r)    // cannot fail: every field is valid
	putHeader(buf[start:], buf[start+frameHeader:])
	return buf
}

// wait defers the confirm of the call being handled until commit seq is
// synced.
func (d *durable) wait(seq uint64) {
	d.waiting = append(d.waiting, confirmWait{seq: seq, rt: d.s.p.DeferReply()})
}

// commit appends the records of this mailbox run (with the tasks acked
// or dead since), and starts a snapshot when the segment grew large.
func (d *durable) commit(done []uint64) {
	if len(done) > 0 {
		d.record(&taskspb.TaskRecord{Op: &taskspb.TaskRecord_Done{Done: &taskspb.TaskDone{Ids: done}}})
	}
	if len(d.buf) == 0 {
		return
	}
	d.appended = d.log.append(d.buf)
	d.buf = nil
	if d.snapSeq == 0 && d.log.segmentSize() > max(d.segmentBytes, 4*d.lastSnap) {
		d.snapshot()
	}
}

// snapshot starts a new segment with the queue's live tasks and keys: once
// it is synced, the older segments go.
func (d *durable) snapshot() {
	s, q := d.s, d.s.q
	buf := appendRecord(nil, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Head{Head: &taskspb.TaskLogHead{NextId: q.nextID + 1}}})
	add := func(t *task) {
		buf = appendRecord(buf, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Stored{Stored: &taskspb.TaskStored{
			Id: t.id, Priority: uint32(t.prio), Key: t.key, Payload: t.enc}}})
	}
	for t := q.oldest; t != nil; t = t.next {
		add(t)
	}
	q.ready.each(add)
	if s.keys != nil {
		s.keys.each(func(key string, e keyEntry) {
			buf = appendRecord(buf, &taskspb.TaskRecord{Op: &taskspb.TaskRecord_Key{Key: &taskspb.TaskKeySeen{Key: key, AtUnixNano: e.at, Id: e.id}}})
		})
	}
	d.lastSnap = int64(len(buf))
	d.appended = d.log.rotate(buf)
	d.snapSeq = d.appended
}

// synced confirms the submissions whose commits are synced; a failed
// write fails them all and stops the queue (its supervisor restarts it
// from the log).
func (d *durable) onSynced(m tasksSynced) {
	if m.err != nil {
		if d.failed == nil {
			d.failed = m.err
			d.reply(^uint64(0), m.err)
			if d.s.yielded == "" || !errors.Is(m.err, ErrNotLeader) {
				d.s.p.Stop(m.err)
			} // a queue that yielded the lead in a takeover waits, passive, for its application to stop it
		}
		return
	}
	d.synced = max(d.synced, m.upto)
	if d.snapSeq != 0 && d.snapSeq <= d.synced {
		d.snapSeq = 0
	}
	d.reply(d.synced, nil)
	d.release(d.synced)
}

// release queues the held tasks whose records are committed up to seq.
func (d *durable) release(seq uint64) {
	i := 0
	for ; i < len(d.held) && d.held[i].seq <= seq; i++ {
		d.s.q.ready.pushBack(d.held[i].t)
		d.held[i] = heldTask{}
	}
	if i > 0 {
		d.held = d.held[i:]
		if len(d.held) == 0 {
			d.held = nil
		}
		d.s.kick()
	}
}

// reply answers the waiting submissions of commits up to seq, in order.
func (d *durable) reply(seq uint64, err error) {
	n := d.s.p.Node()
	i := 0
	for ; i < len(d.waiting) && d.waiting[i].seq <= seq; i++ {
		n.Reply(d.waiting[i].rt, nil, err)
		d.waiting[i] = confirmWait{}
	}
	d.waiting = d.waiting[i:]
	if len(d.waiting) == 0 {
		d.waiting = nil
	}
}

// close appends what is left, stops the writer once it synced it, and
// answers every submission still waiting.
func (d *durable) close(done []uint64) {
	d.commit(done)
	d.log.close()
	d.reply(d.final.Load(), nil)
	d.reply(^uint64(0), fmt.Errorf("%w: the queue stopped before storing the task", ErrStore))
}
