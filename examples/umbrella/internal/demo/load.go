package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/documents"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/timesvc"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/patterns"
	"github.com/switchboard-go/switchboard/supervisor"
)

// load is the scenario's traffic: requests to users and time, uploads of
// documents, each at a steady rate until stop.
type load struct {
	users, time, uploads, scans *outcomes
	// kinds of documents uploaded and accepted by the queue
	clean, flaky, hopeless, exe atomic.Uint64
	wg                          sync.WaitGroup
	stop                        chan struct{}
}

func startLoad(r *rig) *load {
	l := &load{users: newOutcomes(), time: newOutcomes(), uploads: newOutcomes(), scans: newOutcomes(), stop: make(chan struct{})}
	const userLoops = 4
	per := max(r.cfg.Rate/userLoops, 1)
	for i := range userLoops {
		l.every(per, func(seq uint64) { l.userCall(r, i, seq) })
	}
	l.every(10, func(uint64) { l.timeCall(r) })
	l.every(10, func(seq uint64) { l.upload(r, seq) })
	l.every(4, func(seq uint64) { l.scan(r, seq) })
	return l
}

// every runs f perSecond times a second on a goroutine of its own, until
// stop; a call that outlasts its turn delays the next (no pile-up).
func (l *load) every(perSecond int, f func(seq uint64)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(time.Second / time.Duration(perSecond))
		defer t.Stop()
		for seq := uint64(0); ; seq++ {
			select {
			case <-l.stop:
				return
			case <-t.C:
				f(seq)
			}
		}
	}()
}

// end stops the traffic and waits for the calls in flight.
func (l *load) end() {
	close(l.stop)
	l.wg.Wait()
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Second)
}

// userCall: one in five is an update of a followed user (u0..u9, so the
// WebSocket clients get events), the others reads of u0..u49.
func (l *load) userCall(r *rig, loop int, seq uint64) {
	ctx, cancel := callCtx()
	defer cancel()
	sent := time.Now()
	var p *users.Profile
	var err error
	if seq%5 == 0 {
		user := fmt.Sprintf("u%d", rand.IntN(followed))
		p, err = users.Update(ctx, r.client, users.Config{}, user, fmt.Sprintf("%s-%d.%d", user, loop, seq))
	} else {
		p, err = users.Get(ctx, r.client, users.Config{}, fmt.Sprintf("u%d", rand.IntN(50)))
	}
	l.users.record(sent, time.Now(), short(p.GetServedBy()), err)
}

func (l *load) timeCall(r *rig) {
	ctx, cancel := callCtx()
	defer cancel()
	sent := time.Now()
	t, err := timesvc.Now(ctx, r.client, timesvc.Config{})
	l.time.record(sent, time.Now(), short(t.GetServedBy()), err)
}

// upload submits a document: of every twenty, two fail their first
// check (retried), one fails every check (dead-lettered at the delivery
// limit), one is an executable (rejected, dead-lettered at once).
func (l *load) upload(r *rig, seq uint64) {
	doc := &documents.Document{Id: fmt.Sprintf("d%d", seq), User: fmt.Sprintf("u%d", seq%50), Name: fmt.Sprintf("scan-%d.pdf", seq)}
	kind := &l.clean
	switch seq % 20 {
	case 3, 13:
		doc.FailFirst, kind = 1, &l.flaky
	case 7:
		doc.FailFirst, kind = 99, &l.hopeless
	case 17:
		doc.Name, kind = fmt.Sprintf("setup-%d.exe", seq), &l.exe
	}
	ctx, cancel := callCtx()
	defer cancel()
	sent := time.Now()
	err := documents.Upload(ctx, patterns.NewTasks(r.self), documents.Config{}, doc)
	l.uploads.record(sent, time.Now(), "", err)
	if err == nil {
		kind.Add(1)
	}
}

// scan runs the task "scan" on the task supervisor of a worker node
// chosen in turn, and awaits its Verdict.
func (l *load) scan(r *rig, seq uint64) {
	workers := r.byRole("worker")
	node := workers[seq%uint64(len(workers))]
	addr, ok := r.addr(node)
	if !ok {
		return
	}
	ctx, cancel := callCtx()
	defer cancel()
	sent := time.Now()
	doc := &documents.Document{Id: fmt.Sprintf("s%d", seq), Name: fmt.Sprintf("scan-%d.pdf", seq)}
	task, err := supervisor.Async(ctx, r.self, actor.NamedPID(addr, documents.TaskSupervisorName), documents.ScanTask, doc)
	var by string
	if err == nil {
		var v proto.Message
		if v, err = task.Await(ctx); err == nil {
			if vd, ok := v.(*documents.Verdict); !ok || !vd.GetClean() || vd.GetCheckedBy() != node {
				err = fmt.Errorf("scan on %s: verdict %v", node, v)
			} else {
				by = short(vd.GetCheckedBy())
			}
		}
	}
	l.scans.record(sent, time.Now(), by, err)
}
