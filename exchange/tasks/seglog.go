package tasks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// segLog is a durable queue's log: numbered segment files of framed
// records in one directory, appended to by the queue process and written
// by one goroutine with group commit: whatever the queue appended while the
// previous write and fsync ran is written and synced by the next one, so
// one fsync covers every task waiting for it. A snapshot (rotate) starts a
// new segment with the queue's live state; the older segments are removed
// once it is synced.
//
// A frame is a 4-byte little-endian length, the CRC-32C of the body, and
// the body (a protobuf TaskRecord). Reading stops at the first torn or
// corrupt frame of a segment: a crash leaves at most an unsynced tail, and
// nothing in it was confirmed.
type segLog struct {
	dir    string
	onSync func(upto uint64, err error) // called by the writer after each sync

	mu       sync.Mutex
	wake     *sync.Cond
	units    []logUnit // appended, not yet taken by the writer
	appended uint64    // commits appended so far
	closing  bool
	stopped  chan struct{}

	// the writer's own
	f     *os.File
	segNo uint64
	size  atomic.Int64 // bytes in the current segment
	syncs atomic.Uint64
}

// logUnit is one append: records for the current segment, or a snapshot
// that starts a new one.
type logUnit struct {
	data []byte
	snap bool
}

const (
	frameHeader = 8
	// maxFrame bounds one record: a payload is bounded by MaxPayload (4 MiB
	// by default), and a larger length is taken for corruption.
	maxFrame = 256 << 20
	segExt   = ".log"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends body as a frame to buf.
func appendFrame(buf, body []byte) []byte {
	var h [frameHeader]byte
	putHeader(h[:], body)
	return append(append(buf, h[:]...), body...)
}

// putHeader writes the frame header of body into h.
func putHeader(h, body []byte) {
	binary.LittleEndian.PutUint32(h[:4], uint32(len(body)))
	binary.LittleEndian.PutUint32(h[4:frameHeader], crc32.Checksum(body, castagnoli))
}

// errTorn ends a segment: the rest of it is a torn or corrupt tail.
var errTorn = errors.New("torn frame")

// nextFrame returns the body of the first frame in data and the rest, or
// errTorn.
func nextFrame(data []byte) (body, rest []byte, err error) {
	if len(data) < frameHeader {
		return nil, nil, errTorn
	}
	n := binary.LittleEndian.Uint32(data[:4])
	if n > maxFrame || int(n) > len(data)-frameHeader {
		return nil, nil, errTorn
	}
	body = data[frameHeader : frameHeader+int(n)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[4:8]) {
		return nil, nil, errTorn
	}
	return body, data[frameHeader+int(n):], nil
}

func segName(no uint64) string { return fmt.Sprintf("%016x%s", no, segExt) }

// segments lists the segment numbers in dir, in order.
func segments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nos []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, segExt) || len(name) != 16+len(segExt) {
			continue
		}
		var no uint64
		if _, err := fmt.Sscanf(name[:16], "%016x", &no); err == nil {
			nos = append(nos, no)
		}
	}
	slices.Sort(nos)
	return nos, nil
}

// replayLog calls fn with the body of every intact frame in dir's
// segments, in order, and returns the last segment's number and how many
// segments ended in a torn tail.
func replayLog(dir string, fn func(body []byte) error) (last uint64, torn int, err error) {
	nos, err := segments(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, no := range nos {
		data, err := os.ReadFile(filepath.Join(dir, segName(no)))
		if err != nil {
			return 0, 0, err
		}
		for len(data) > 0 {
			body, rest, ferr := nextFrame(data)
			if ferr != nil {
				torn++
				break
			}
			if err := fn(body); err != nil {
				return 0, 0, err
			}
			data = rest
		}
		last = no
	}
	return last, torn, nil
}

// openLog starts the log's writer after the segments numbered up to last;
// the first append should be a snapshot (rotate), which also removes the
// old segments.
func openLog(dir string, last uint64, onSync func(upto uint64, err error)) *segLog {
	l := &segLog{dir: dir, onSync: onSync, segNo: last, stopped: make(chan struct{})}
	l.wake = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// append queues records for the current segment and returns the number
// of the commit that will sync them.
func (l *segLog) append(data []byte) uint64 { return l.add(logUnit{data: data}) }

// rotate queues a snapshot of the queue's live state: it starts a new
// segment, and the older ones are removed once it is synced.
func (l *segLog) rotate(snap []byte) uint64 { return l.add(logUnit{data: snap, snap: true}) }

func (l *segLog) add(u logUnit) uint64 {
	l.mu.Lock()
	l.units = append(l.units, u)
	l.appended++
	seq := l.appended
	l.mu.Unlock()
	l.wake.Signal()
	return seq
}

// syncCount is the number of syncs so far.
func (l *segLog) syncCount() uint64 { return l.syncs.Load() }

// segmentSize is the size of the segment being written.
func (l *segLog) segmentSize() int64 { return l.size.Load() }

// close writes and syncs what was appended, stops the writer and returns
// once it ended.
func (l *segLog) close() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.wake.Signal()
	<-l.stopped
}

// run is the writer: take what was appended, write it, sync, report, and
// again, until closed.
func (l *segLog) run() {
	defer close(l.stopped)
	defer func() {
		if l.f != nil {
			_ = l.f.Close()
		}
	}()
	var failed error
	for {
		l.mu.Lock()
		for len(l.units) == 0 && !l.closing {
			l.wake.Wait()
		}
		units, upto, closing := l.units, l.appended, l.closing
		l.units = nil
		l.mu.Unlock()
		if len(units) > 0 {
			if failed == nil {
				failed = l.write(units)
			}
			l.onSync(upto, failed)
		}
		if closing {
			l.mu.Lock()
			empty := len(l.units) == 0
			l.mu.Unlock()
			if empty {
				return
			}
		}
	}
}

// write writes units and syncs them; after a snapshot it removes the
// segments before it.
func (l *segLog) write(units []logUnit) error {
	rotated := false
	for _, u := range units {
		if u.snap || l.f == nil {
			if err := l.startSegment(); err != nil {
				return err
			}
			rotated = rotated || u.snap
		}
		if _, err := l.f.Write(u.data); err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		l.size.Add(int64(len(u.data)))
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	l.syncs.Add(1)
	if rotated {
		return l.removeBefore(l.segNo)
	}
	return nil
}

// startSegment closes the current segment and creates the next one.
func (l *segLog) startSegment() error {
	if l.f != nil {
		if err := l.f.Sync(); err != nil { // what it holds may be all there is, if the snapshot is torn
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		_ = l.f.Close()
	}
	l.segNo++
	f, err := os.OpenFile(filepath.Join(l.dir, segName(l.segNo)), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	l.f = f
	l.size.Store(0)
	return syncDir(l.dir)
}

// removeBefore removes the segments numbered below no.
func (l *segLog) removeBefore(no uint64) error {
	nos, err := segments(l.dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	for _, n := range nos {
		if n < no {
			if err := os.Remove(filepath.Join(l.dir, segName(n))); err != nil {
				return fmt.Errorf("%w: %w", ErrStore, err)
			}
		}
	}
	return syncDir(l.dir)
}

// syncDir makes the directory's entries (created, removed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return nil
}
