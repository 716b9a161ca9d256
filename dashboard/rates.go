package dashboard

import "time"

// rates turns counters into rates per second: a counter's difference
// from its value in the previous round over the time between them. A
// counter seen for the first time, or smaller than before (its node
// restarted), has rate 0.
type rates struct {
	prev, next map[string]sample
}

type sample struct {
	v  uint64
	at time.Time
}

func newRates() *rates {
	return &rates{prev: map[string]sample{}, next: map[string]sample{}}
}

// rate records v as key's value at now and returns its rate since the
// previous round.
func (r *rates) rate(key string, v uint64, now time.Time) float64 {
	r.next[key] = sample{v, now}
	p, ok := r.prev[key]
	if !ok || v < p.v || !now.After(p.at) {
		return 0
	}
	return float64(v-p.v) / now.Sub(p.at).Seconds()
}

// roll ends a round: the values recorded in it are the next round's
// previous ones; counters not seen in it are forgotten.
func (r *rates) roll() {
	r.prev, r.next = r.next, make(map[string]sample, len(r.next))
}
