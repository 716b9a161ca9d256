package demo

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// errKind names the kind of a failed call, for the summary.
func errKind(err error) string {
	switch {
	case errors.Is(err, actor.ErrNodeDown):
		return "node down"
	case errors.Is(err, exchange.ErrExchangeNotFound):
		return "exchange not found"
	case errors.Is(err, exchange.ErrNoController):
		return "no controller"
	case errors.Is(err, actor.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, tasks.ErrQueueFull):
		return "queue full"
	case errors.Is(err, exchange.ErrRejected):
		return "rejected"
	}
	return "other: " + err.Error()
}

// outcomes counts one service's calls: successes, errors by kind, and a
// window of recent successes for the rate.
type outcomes struct {
	mu      sync.Mutex
	ok      uint64
	errs    map[string]uint64
	lastErr error
	recent  []time.Time // successes of the last rateWindow
	// lastOK is when the last call that succeeded was sent.
	lastOK time.Time
	// watch, when set, records the first success of a call sent after it,
	// and the errors from it to that success.
	watch     time.Time
	firstOK   time.Time
	firstFrom string
	watchErrs map[string]uint64
}

const rateWindow = 2 * time.Second

func newOutcomes() *outcomes { return &outcomes{errs: map[string]uint64{}} }

// record counts a call sent at sent that ended at now with err; from
// names who answered.
func (o *outcomes) record(sent, now time.Time, from string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		k := errKind(err)
		o.errs[k]++
		o.lastErr = err
		if !o.watch.IsZero() && o.firstOK.IsZero() {
			o.watchErrs[k]++
		}
		return
	}
	o.ok++
	o.lastOK = sent
	o.recent = append(o.recent, now)
	if !o.watch.IsZero() && o.firstOK.IsZero() && !sent.Before(o.watch) {
		o.firstOK, o.firstFrom = now, from
	}
}

// startWatch starts watching for the first success after t.
func (o *outcomes) startWatch(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.watch, o.firstOK, o.firstFrom, o.watchErrs = t, time.Time{}, "", map[string]uint64{}
}

// watched returns the watch: when it began, the first success after it
// (zero if none yet), who answered it, and the errors in between.
func (o *outcomes) watched() (from, first time.Time, by string, errs map[string]uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	cp := map[string]uint64{}
	for k, v := range o.watchErrs {
		cp[k] = v
	}
	return o.watch, o.firstOK, o.firstFrom, cp
}

// snapshot returns the totals and the rate of successes per second.
func (o *outcomes) snapshot(now time.Time) (ok uint64, rate float64, errs map[string]uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := sort.Search(len(o.recent), func(i int) bool { return now.Sub(o.recent[i]) < rateWindow })
	o.recent = o.recent[i:]
	errs = make(map[string]uint64, len(o.errs))
	for k, v := range o.errs {
		errs[k] = v
	}
	return o.ok, float64(len(o.recent)) / rateWindow.Seconds(), errs
}

func (o *outcomes) failed() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n uint64
	for _, v := range o.errs {
		n += v
	}
	return n
}
