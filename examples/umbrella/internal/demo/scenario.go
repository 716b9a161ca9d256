package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/tasks"
)

// The directory entry of the node that runs the users core.
var usersCoreEntry = "distapp.running:" + users.CoreName

// failover is what the kill of the users core's node showed.
type failover struct {
	victim, standby string
	killed          time.Time
	firstReply      time.Duration // from the kill to the first reply to a call sent after it
	firstBy         string        // the replica that answered it
	failed          map[string]uint64
	restarted       time.Time     // the killed node was started again
	ready           time.Duration // from its start to its READY
	takeover        time.Duration // from its start to the users core running on it again
	takeoverFailed  map[string]uint64
}

// runScenario drives the release until the scenario's end or ctx's, and
// returns the report.
func runScenario(ctx context.Context, c Config, r *rig) *report {
	rep := &report{started: time.Now()}
	killAt, restartAt := time.Duration(float64(c.Duration)*0.3), time.Duration(float64(c.Duration)*0.55)
	if c.Forever {
		killAt, restartAt = 12*time.Second, 22*time.Second
	}
	l := startLoad(r)
	rep.load = l
	fo := &failover{}
	rep.failover = fo
	events := &timeline{start: rep.started}
	rep.events = events
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var restarted chan error
	var takeoverDone chan time.Time
	var errsAtRestart map[string]uint64
	last := time.Time{}
loop:
	for {
		select {
		case <-ctx.Done():
			events.add("interrupted: the scenario ends early")
			rep.interrupted = true
			break loop
		case err := <-restarted:
			restarted = nil
			if err != nil {
				events.add("restart of %s failed: %v", short(fo.victim), err)
				break
			}
			fo.ready = time.Since(fo.restarted)
			events.add("%s is back (READY %v after its start)", short(fo.victim), fo.ready.Round(time.Millisecond))
		case at := <-takeoverDone:
			takeoverDone = nil
			if at.IsZero() {
				events.add("takeover: the users core did not come back to %s within 20 s", short(fo.victim))
				break
			}
			fo.takeover = at.Sub(fo.restarted)
			events.add("takeover: the users core runs on %s again, %v after its start", short(fo.victim), fo.takeover.Round(time.Millisecond))
		case now := <-tick.C:
			el := now.Sub(rep.started)
			if fo.killed.IsZero() && el >= killAt {
				fo.victim = r.where(usersCoreEntry)
				if fo.victim == "" {
					events.add("the users core runs nowhere: nothing to kill")
					fo.killed = now
					break
				}
				fo.standby = r.core[0]
				if fo.victim == r.core[0] {
					fo.standby = r.core[1]
				}
				fo.killed = time.Now()
				l.users.startWatch(fo.killed)
				r.kill(fo.victim)
				events.add("kill -9 %s, the node running the users core (and time_hub, a users replica)", short(fo.victim))
			}
			if !fo.killed.IsZero() && fo.firstReply == 0 && fo.victim != "" {
				if _, first, by, errs := l.users.watched(); !first.IsZero() {
					fo.firstReply, fo.firstBy, fo.failed = first.Sub(fo.killed), by, errs
					events.add("failover: the users core runs on %s; first reply %v after the kill (by %s); %d calls failed (%s)",
						short(r.where(usersCoreEntry)), fo.firstReply.Round(time.Millisecond), fo.firstBy, total(errs), kinds(errs))
				}
			}
			if fo.victim != "" && fo.restarted.IsZero() && el >= restartAt {
				restarted = make(chan error, 1)
				events.add("restart %s", short(fo.victim))
				fo.restarted = time.Now()
				_, _, errsAtRestart = l.users.snapshot(fo.restarted)
				takeoverDone = make(chan time.Time, 1)
				go func() { takeoverDone <- r.awaitWhere(ctx, usersCoreEntry, fo.victim, 30*time.Second) }()
				go func() {
					if err := r.spawn(fo.victim, "core"); err != nil {
						restarted <- err
						return
					}
					actx, cancel := context.WithTimeout(ctx, 30*time.Second)
					defer cancel()
					restarted <- r.await(actx, fo.victim)
				}()
			}
			if fo.takeover > 0 && fo.takeoverFailed == nil && now.Sub(fo.restarted) > fo.takeover+time.Second {
				_, _, errs := l.users.snapshot(now)
				fo.takeoverFailed = diff(errs, errsAtRestart)
			}
			if c.Live || now.Sub(last) >= 5*time.Second {
				last = now
				s := collect(ctx, r, rep)
				if c.Live {
					io.WriteString(c.Out, "\x1b[H\x1b[2J"+s.render(r, rep, true))
				} else {
					fmt.Fprint(c.Out, s.line(rep))
				}
			}
			if !c.Forever && el >= c.Duration {
				break loop
			}
		}
	}
	l.end()
	if takeoverDone != nil { // the takeover was under way: give it its time
		if at := <-takeoverDone; !at.IsZero() {
			fo.takeover = at.Sub(fo.restarted)
		}
	}
	if restarted != nil {
		if err := <-restarted; err == nil {
			fo.ready = time.Since(fo.restarted)
		}
	}
	if fo.takeoverFailed == nil && errsAtRestart != nil {
		_, _, errs := l.users.snapshot(time.Now())
		fo.takeoverFailed = diff(errs, errsAtRestart)
	}
	rep.drained = r.drain(10 * time.Second)
	rep.ended = time.Now()
	rep.final = collect(context.Background(), r, rep)
	return rep
}

// awaitWhere waits until the directory entry is on node, and returns
// when it saw it (zero after d, or once ctx ends).
func (r *rig) awaitWhere(ctx context.Context, entry, node string, d time.Duration) time.Time {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.where(entry) == node {
			return time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}
}

// drain waits, at most d, until the document queues hold nothing and
// the WebSocket clients received every event the access nodes sent.
func (r *rig) drain(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		q, err1 := tasks.Inspect(ctx, r.self, exchange.Named("documents"))
		dq, err2 := tasks.Inspect(ctx, r.self, exchange.Named("documents.dead"))
		cancel()
		if err1 == nil && err2 == nil && q.Ready+q.InFlight+q.DeadLetterPending == 0 && dq.Ready+dq.InFlight == 0 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// timeline is the scenario's events, with their time from the start.
type timeline struct {
	start time.Time
	lines []string
}

func (t *timeline) add(format string, args ...any) {
	t.lines = append(t.lines, fmt.Sprintf("%5.1fs  ", time.Since(t.start).Seconds())+fmt.Sprintf(format, args...))
}

func total(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

func kinds(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	s := ""
	for _, k := range sortedKeys(m) {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s: %d", k, m[k])
	}
	return s
}

func diff(now, before map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}
