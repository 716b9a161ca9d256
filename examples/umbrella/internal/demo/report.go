package demo

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
)

// report is what the scenario did, and the checks that say whether every
// service worked.
type report struct {
	started, ended time.Time
	load           *load
	failover       *failover
	events         *timeline
	printed        []bool // timeline lines printed by line
	interrupted    bool
	drained        bool
	final          *snapshot
	checks         []check
	unclean        []string // nodes that did not stop cleanly
	leftover       int      // node processes alive after the shutdown
}

type check struct {
	ok   bool
	what string
}

func (rep *report) expect(ok bool, format string, args ...any) {
	rep.checks = append(rep.checks, check{ok, fmt.Sprintf(format, args...)})
}

func (rep *report) failures() int {
	n := 0
	for _, c := range rep.checks {
		if !c.ok {
			n++
		}
	}
	return n
}

// verify fills the checks from what ran.
func (rep *report) verify(r *rig) {
	s, l, fo := rep.final, rep.load, rep.failover
	uok, _, uerrs := l.users.snapshot(rep.ended)
	rep.expect(uok > 0, "users answered (%d ok, %d failed)", uok, total(uerrs))
	replicas := map[string]bool{}
	for _, st := range s.statuses {
		if st.GetCounters()["users.get"]+st.GetCounters()["users.update"] > 0 {
			replicas[short(st.GetNode())] = true
		}
	}
	rep.expect(len(replicas) >= 5, "the users requests were served by replicas on %d nodes (want 5 or more, counting the restarted one)", len(replicas))
	if !fo.killed.IsZero() {
		rep.expect(fo.victim != "" && fo.firstReply > 0 && fo.firstReply < 15*time.Second,
			"failover: after kill -9 of %s the users service answered again (%v)", short(fo.victim), fo.firstReply.Round(time.Millisecond))
	}
	if !fo.restarted.IsZero() {
		rep.expect(fo.takeover > 0, "takeover: the users core came back to %s", short(fo.victim))
		l.users.mu.Lock()
		last := l.users.lastOK
		l.users.mu.Unlock()
		rep.expect(fo.takeover > 0 && last.After(fo.restarted.Add(fo.takeover)), "users answered after the takeover")
	}
	tok, _, terrs := l.time.snapshot(rep.ended)
	rep.expect(tok > 0 && total(terrs) <= tok/5, "time answered (%d ok, %d failed)", tok, total(terrs))
	sok, _, serrs := l.scans.snapshot(rep.ended)
	rep.expect(sok > 0 && total(serrs) <= sok/10, "scans run on the chosen worker node by Async/Await (%d ok, %d failed: %s)", sok, total(serrs), kinds(serrs))
	checked, dead := sum(s.statuses, documents.Checked), sumPrefix(s.statuses, documents.DeadPrefix)
	accepted := l.clean.Load() + l.flaky.Load() + l.hopeless.Load() + l.exe.Load()
	rep.expect(rep.drained, "the document queues drained")
	rep.expect(accepted > 0 && checked+dead == accepted,
		"every accepted document was settled once: %d uploaded = %d checked + %d dead-lettered", accepted, checked, dead)
	if l.flaky.Load() > 0 {
		rep.expect(sum(s.statuses, documents.Retried) > 0 && sum(s.statuses, documents.Redelivered) > 0, "documents were nacked and redelivered")
	}
	if l.hopeless.Load() > 0 || l.exe.Load() > 0 {
		lim, rej := sum(s.statuses, documents.DeadPrefix+"delivery_limit"), sum(s.statuses, documents.DeadPrefix+"rejected")
		rep.expect(lim == l.hopeless.Load() && rej == l.exe.Load(),
			"dead letters: %d at the delivery limit (want %d), %d rejected (want %d)", lim, l.hopeless.Load(), rej, l.exe.Load())
	}
	want := uint64(r.cfg.Access * r.cfg.Clients * 2)
	rep.expect(s.subs != nil && s.subs.GetTotal() == want, "the subscriptions leader holds every WebSocket subscription (%d of %d)", s.subs.GetTotal(), want)
	for _, n := range r.byRole("access") {
		p := s.proxies[n]
		ws := s.ws[n]
		rep.expect(ws[1] > 0 && p.GetPublished() > 0 && p.GetDelivered() >= p.GetPublished(), "%s: its clients received %d events; %d copies from the hub fanned out to %d deliveries",
			short(n), ws[1], p.GetPublished(), p.GetDelivered())
	}
	rep.expect(len(rep.unclean) == 0 && rep.leftover == 0, "every node stopped cleanly, no process left (killed after 15 s: %v; alive: %d)", rep.unclean, rep.leftover)
	if r.ws != nil {
		rep.expect(r.ws.silent() == 0, "every WebSocket client received updates (%d received none)", r.ws.silent())
	}
}

// render prints the report: one screen.
func (rep *report) render(w io.Writer, r *rig, live bool) {
	var b strings.Builder
	if live {
		b.WriteString("\x1b[H\x1b[2J")
	}
	s, l, fo := rep.final, rep.load, rep.failover
	fmt.Fprintf(&b, "\nREPORT  %v scenario on %d nodes, %s", rep.ended.Sub(rep.started).Round(100*time.Millisecond), len(r.names), r.provider())
	if rep.interrupted {
		b.WriteString(" (interrupted)")
	}
	b.WriteString("\n")
	if s != nil {
		var hubs []string
		for _, n := range r.names {
			var here []string
			for _, a := range s.statuses[n].GetApps() {
				if strings.HasSuffix(a, "_core") || strings.HasSuffix(a, "_hub") || strings.HasSuffix(a, "_queue") {
					here = append(here, a)
				}
			}
			if len(here) > 0 {
				hubs = append(hubs, short(n)+": "+strings.Join(here, ", "))
			}
		}
		fmt.Fprintf(&b, "  hubs at the end  %s\n", strings.Join(hubs, "; "))
	}
	uok, _, uerrs := l.users.snapshot(rep.ended)
	fmt.Fprintf(&b, "  users       %d ok, %d failed (%s); Sticky on the user id over %d replicas\n", uok, total(uerrs), kinds(uerrs), 2+r.cfg.Workers)
	if !fo.killed.IsZero() && fo.victim != "" {
		fmt.Fprintf(&b, "  failover    kill -9 %s at %.1fs: first reply %v after the kill, by %s; %d calls failed meanwhile (%s)\n",
			short(fo.victim), fo.killed.Sub(rep.started).Seconds(), fo.firstReply.Round(time.Millisecond), orDash(fo.firstBy), total(fo.failed), kinds(fo.failed))
	}
	if !fo.restarted.IsZero() {
		fmt.Fprintf(&b, "  takeover    %s restarted: the users core ran on it again %v after its start (READY after %v); %d calls failed (%s)\n",
			short(fo.victim), fo.takeover.Round(time.Millisecond), fo.ready.Round(time.Millisecond), total(fo.takeoverFailed), kinds(fo.takeoverFailed))
	}
	tok, _, terrs := l.time.snapshot(rep.ended)
	fmt.Fprintf(&b, "  time        %d ok, %d failed (%s)\n", tok, total(terrs), kinds(terrs))
	if s != nil {
		fmt.Fprintf(&b, "  documents   %d uploaded: %d checked (%d nacks retried), %d dead-lettered (%s)\n",
			l.clean.Load()+l.flaky.Load()+l.hopeless.Load()+l.exe.Load(), sum(s.statuses, documents.Checked),
			sum(s.statuses, documents.Retried), sumPrefix(s.statuses, documents.DeadPrefix), deadKinds(s.statuses))
	}
	sok, _, serrs := l.scans.snapshot(rep.ended)
	fmt.Fprintf(&b, "  scans       %d run on a chosen worker by its task supervisor (Async, Await), %d failed (%s)\n", sok, total(serrs), kinds(serrs))
	if s != nil {
		for _, n := range r.byRole("access") {
			p := s.proxies[n]
			fmt.Fprintf(&b, "  %-11s %d WebSocket clients got %d events: %d copies crossed from the hub, fanned out to %d deliveries by the local proxy\n",
				short(n), r.cfg.Clients, s.ws[n][1], p.GetPublished(), p.GetDelivered())
		}
		if s.subs != nil {
			fmt.Fprintf(&b, "  subscriptions %d recorded by the leader, on %s\n", s.subs.GetTotal(), short(s.subs.GetLeader()))
		}
	}
	rep.verify(r)
	b.WriteString("CHECKS\n")
	for _, c := range rep.checks {
		mark := "ok  "
		if !c.ok {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %s\n", mark, c.what)
	}
	if rep.failures() == 0 {
		b.WriteString("every service worked\n")
	} else {
		fmt.Fprintf(&b, "%d checks failed\n", rep.failures())
	}
	io.WriteString(w, b.String())
}
