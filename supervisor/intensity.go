package supervisor

import "time"

// restartWindow counts restarts within a sliding period: more than max
// restarts within period exceed the supervisor's intensity.
type restartWindow struct {
	max    int
	period time.Duration
	times  []time.Time
}

// add records a restart at now and reports whether the intensity still
// holds (false: the supervisor must give up).
func (w *restartWindow) add(now time.Time) bool {
	cut := 0
	for cut < len(w.times) && now.Sub(w.times[cut]) >= w.period {
		cut++
	}
	w.times = append(w.times[cut:], now)
	return len(w.times) <= w.max
}
