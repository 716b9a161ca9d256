package childtest

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// RSS returns the resident set size of process pid in bytes, from
// /proc/pid/status (Linux only; elsewhere an error).
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// RSS returns the child's resident set size in bytes; see RSS.
func (c *Child) RSS() (int64, error) { return RSS(c.Cmd.Process.Pid) }

// PeakRSS samples pid's RSS every few milliseconds until stop is closed,
// then sends the largest value seen (0 if none could be read) on the
// channel it returns.
func PeakRSS(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		for {
			if v, err := RSS(pid); err == nil && v > peak {
				peak = v
			}
			select {
			case <-stop:
				out <- peak
				return
			default:
			}
			sleepBriefly()
		}
	}()
	return out
}

func sleepBriefly() { time.Sleep(5 * time.Millisecond) }
