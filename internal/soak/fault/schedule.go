// Package fault draws a soak's fault schedule from a seed: the same seed
// gives the same schedule, so a failing run can be replayed.
package fault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/soak/history"
)

// Kinds of faults.
const (
	Kill   = history.FaultKill  // kill -9 of a node, restarted after Hold
	Pause  = history.FaultPause // SIGSTOP of a node, SIGCONT after Hold (longer than tick and TTL)
	Consul = "consul"           // the Consul agent stopped, started again after Hold
	Cut    = "cut"              // the link between two nodes cut (Stall: held silent; else dropped) for Hold
	Slow   = "slow"             // a node's consumers slowed down for Hold
	Skew   = "skew"             // a node's clients stamp deadlines Skew early for Hold
)

// Kinds lists every kind, in the order weights are given.
var Kinds = []string{Kill, Pause, Consul, Cut, Slow, Skew}

// Fault is one fault of a schedule.
type Fault struct {
	At    time.Duration // since the run's start
	Kind  string
	Nodes []string      // one node; two for a cut; none for Consul
	Hold  time.Duration // how long the fault lasts
	Stall bool          // a cut that holds bytes instead of dropping the connections
	Skew  time.Duration // a skewed clock's offset
}

func (f Fault) String() string {
	s := fmt.Sprintf("%8v %-6s %-12s hold %v", f.At.Round(time.Millisecond), f.Kind, strings.Join(f.Nodes, "-"), f.Hold.Round(time.Millisecond))
	if f.Kind == Cut {
		if f.Stall {
			s += " stall"
		} else {
			s += " drop"
		}
	}
	if f.Kind == Skew {
		s += fmt.Sprintf(" skew %v", f.Skew.Round(time.Millisecond))
	}
	return s
}

// Config shapes a schedule.
type Config struct {
	Seed     uint64
	Duration time.Duration // the run; faults start after Warmup and end by Duration - Cooldown
	Warmup   time.Duration
	Cooldown time.Duration
	Nodes    []string
	// Gap is the mean quiet time between one fault's end and the next's
	// start (drawn from [Gap/2, 3Gap/2]).
	Gap time.Duration
	// MinPause is the shortest pause: longer than the tick and the health TTL.
	MinPause time.Duration
}

// ErrConfig is returned for a configuration that cannot give a schedule.
var ErrConfig = errors.New("fault: bad schedule configuration")

// holds bounds each kind's Hold: [min, min+spread).
func holds(c Config) map[string][2]time.Duration {
	return map[string][2]time.Duration{
		Kill:   {500 * time.Millisecond, 2 * time.Second},
		Pause:  {c.MinPause, 2 * time.Second},
		Consul: {time.Second, 2 * time.Second},
		Cut:    {6 * time.Second, 4 * time.Second}, // longer than the default tick bound (5 s): the nodes see each other down
		Slow:   {2 * time.Second, 3 * time.Second},
		Skew:   {2 * time.Second, 3 * time.Second},
	}
}

// Schedule draws the faults of a run from c.Seed: one at a time, each
// after the previous one ended and a quiet gap.
func Schedule(c Config) ([]Fault, error) {
	if len(c.Nodes) < 2 || c.Gap <= 0 || c.MinPause <= 0 || c.Duration <= c.Warmup+c.Cooldown {
		return nil, fmt.Errorf("%w: %+v", ErrConfig, c)
	}
	r := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	hs := holds(c)
	end := c.Duration - c.Cooldown
	var out []Fault
	at := c.Warmup
	var round []int
	for i := 0; ; i++ {
		// Every kind once in each round of len(Kinds), in a drawn order:
		// a short run still sees every kind.
		if i%len(Kinds) == 0 {
			round = r.Perm(len(Kinds))
		}
		kind := Kinds[round[i%len(Kinds)]]
		h := hs[kind]
		f := Fault{At: at, Kind: kind, Hold: h[0] + time.Duration(r.Int64N(int64(h[1])))}
		switch kind {
		case Consul:
		case Cut:
			a := r.IntN(len(c.Nodes))
			b := (a + 1 + r.IntN(len(c.Nodes)-1)) % len(c.Nodes)
			f.Nodes = []string{c.Nodes[a], c.Nodes[b]}
			f.Stall = r.IntN(2) == 0
		default:
			f.Nodes = []string{c.Nodes[r.IntN(len(c.Nodes))]}
		}
		if kind == Skew {
			f.Skew = time.Duration(100+r.IntN(900)) * time.Millisecond
		}
		if f.At+f.Hold > end {
			return out, nil
		}
		out = append(out, f)
		at = f.At + f.Hold + c.Gap/2 + time.Duration(r.Int64N(int64(c.Gap)))
	}
}
