//go:build unix

package transport

import "syscall"

// directWrite writes frames at once for their senders, one at a time
// (peer.busy): one non-blocking write of buf to the socket, counting what
// it took in n (0 if the socket would block or failed). Its callback is
// made once per connection, so that a write allocates nothing.
type directWrite struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool
	buf []byte
	n   int
}

func newDirectWrite(raw syscall.RawConn) *directWrite {
	d := &directWrite{raw: raw}
	d.fn = func(fd uintptr) bool {
		for d.n < len(d.buf) {
			m, err := syscall.Write(int(fd), d.buf[d.n:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || m <= 0 {
				break
			}
			d.n += m
		}
		return true // never wait for the socket: the writer does that
	}
	return d
}

// write writes what it can of b and returns how much.
func (d *directWrite) write(b []byte) int {
	d.buf, d.n = b, 0
	_ = d.raw.Write(d.fn)
	n := d.n
	d.buf = nil
	return n
}
