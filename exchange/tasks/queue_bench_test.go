package tasks

import (
	"fmt"
	"testing"

	"github.com/switchboard-go/switchboard/actor"
)

// BenchmarkTaskQueueCore measures the queue's own logic per task, without
// processes: submit, dispatch in batches, ack, with 1 and 10 workers.
func BenchmarkTaskQueueCore(b *testing.B) {
	for _, workers := range []int{1, 10} {
		b.Run(fmt.Sprintf("workers=%d/prefetch=100", workers), func(b *testing.B) {
			spec := Spec{Name: "q", MaxQueue: Unlimited}
			spec.defaults()
			q := newTaskQueue(&spec, 0)
			for i := range workers {
				q.join(actor.NewPID("n", fmt.Sprint(i)), 100)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = q.submit(i, nil, 0, 0)
				if i%8 != 7 {
					continue
				}
				q.dispatch(int64(i))
				for _, w := range q.busy {
					w.busy = false
					for _, t := range w.batch {
						_ = q.ack(w, t.tag)
					}
					w.batch = w.batch[:0]
				}
				q.busy = q.busy[:0]
			}
		})
	}
}
