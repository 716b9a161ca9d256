//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Locks of the embedded provider.
//
// A lock is flock(2) on the file <LockDir>/<key>.lock, which holds the
// holder's node name for people to read. The kernel releases a flock when
// its process dies, however it dies, so a node killed with kill -9 frees
// its keys at once. flock belongs to an open file, not to a process, so
// several nodes of one process exclude each other too.
//
// Limits: one machine. Nodes on several machines do not share locks (a
// network file system's flock is emulated or not shared at all: do not
// put LockDir on one). Nothing arbitrates a partition of the embedded
// membership: a node cut off from the others keeps its locks for as long
// as its process lives, so the others see it down yet cannot take its
// keys — safe, but no failover until it stops. Do not delete lock files
// while nodes run. Lock waits by trying again every fileLockPoll.

// fileLockPoll is how often Lock tries a held key again.
const fileLockPoll = 10 * time.Millisecond

func (e *embedded) Locker(left <-chan struct{}) Locker {
	e.mu.Lock()
	n := e.n
	e.mu.Unlock()
	dir := e.cfg.LockDir
	if dir == "" {
		tag := "default"
		if t := n.CookieTag("switchboard-locks"); t != "" {
			tag = t[:16]
		}
		dir = filepath.Join(os.TempDir(), "switchboard-locks", tag)
	}
	return &fileLocker{dir: dir, node: n.Name(), left: left}
}

type fileLocker struct {
	dir  string
	node string
	left <-chan struct{}
}

func (l *fileLocker) Lock(ctx context.Context, key string) (Lock, error) {
	t := time.NewTicker(fileLockPoll)
	defer t.Stop()
	for {
		lk, err := l.TryLock(ctx, key)
		if !errors.Is(err, ErrLocked) {
			return lk, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: lock %q: %w", key, ctx.Err())
		case <-l.left:
			return nil, ErrLeft
		case <-t.C:
		}
	}
}

func (l *fileLocker) TryLock(ctx context.Context, key string) (Lock, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	select {
	case <-l.left:
		return nil, ErrLeft
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cluster: lock %q: %w", key, err)
	}
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: lock directory: %w", ErrUnavailable, err)
	}
	path := filepath.Join(l.dir, url.PathEscape(key)+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("%w: lock %q: %w", ErrUnavailable, key, err)
		}
		if err := flock(f); err != nil {
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w: %q", ErrLocked, key)
			}
			return nil, fmt.Errorf("%w: lock %q: %w", ErrUnavailable, key, err)
		}
		// The path may name another file by now (deleted and created
		// again): then this lock protects nothing; try the new file.
		if same, err := samePath(f, path); err != nil || !same {
			_ = f.Close()
			if err != nil {
				return nil, fmt.Errorf("%w: lock %q: %w", ErrUnavailable, key, err)
			}
			continue
		}
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(l.node+"\n"), 0) // for people; nothing reads it
		}
		return newFileLock(l, key, f), nil
	}
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func samePath(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// fileLock is a held flock; it is released by Unlock or when the node
// leaves, and by the kernel when the process ends.
type fileLock struct {
	key        string
	f          *os.File
	lost       chan struct{}
	unlock     chan struct{}
	unlockOnce sync.Once
}

func newFileLock(l *fileLocker, key string, f *os.File) *fileLock {
	lk := &fileLock{key: key, f: f, lost: make(chan struct{}), unlock: make(chan struct{})}
	go func() {
		select {
		case <-lk.unlock:
		case <-l.left:
		}
		_ = lk.f.Close() // releases the flock
		close(lk.lost)
	}()
	return lk
}

func (lk *fileLock) Key() string           { return lk.key }
func (lk *fileLock) Lost() <-chan struct{} { return lk.lost }

func (lk *fileLock) Unlock(ctx context.Context) error {
	lk.unlockOnce.Do(func() { close(lk.unlock) })
	<-lk.lost // closing a file does not block
	return nil
}
