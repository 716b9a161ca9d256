package patterns

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkFloor is the in-node floor beside the in-node figures of
// BenchmarkExchange, BenchmarkPubSub and BenchmarkTasks, as bare TCP is the
// floor beside the cross-node ones: the same traffic between goroutines over
// Go channels, with no framework, no process, no mailbox, no routing.
//
//   - requests: callers send a request to one serving goroutine (the
//     controller) on a shared channel and wait for the reply on their own;
//   - pubsub: one publisher sends each message to every subscriber
//     goroutine's buffered channel;
//   - tasks: producers submit a task to one queue goroutine and wait for
//     its confirm, the queue hands tasks to workers within a prefetch of
//     100 each, the workers ack every task to the queue.
//
// Reported as the benchmark's figure (req/s, deliveries/s, tasks/s) and
// cpu-ns per operation, like the benchmarks it stands beside.
//
//	go test -run '^$' -bench Floor -benchtime 200000x ./patterns
func BenchmarkFloor(b *testing.B) {
	for _, callers := range []int{1, 100} {
		b.Run(fmt.Sprintf("requests/callers=%d", callers), func(b *testing.B) { floorRequests(b, callers) })
	}
	for _, subs := range []int{1, 10000} {
		b.Run(fmt.Sprintf("pubsub/subscribers=%d", subs), func(b *testing.B) { floorPubSub(b, subs) })
	}
	for _, workers := range []int{1, 10} {
		b.Run(fmt.Sprintf("tasks/workers=%d/prefetch=100", workers), func(b *testing.B) { floorTasks(b, workers, 100) })
	}
}

type floorReq struct {
	body  string
	reply chan string
}

func floorRequests(b *testing.B, callers int) {
	reqs := make(chan floorReq)
	done := make(chan struct{})
	go func() { // the controller
		for {
			select {
			case r := <-reqs:
				r.reply <- "pong"
			case <-done:
				return
			}
		}
	}()
	defer close(done)
	start, cpu := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for i := range callers {
		n := b.N / callers
		if i == 0 {
			n += b.N % callers
		}
		wg.Go(func() {
			reply := make(chan string, 1)
			for range n {
				reqs <- floorReq{"ping", reply}
				<-reply
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/req")
}

func floorPubSub(b *testing.B, subs int) {
	type msg struct{ key, body string }
	publishes := max(b.N/subs, 1)
	inbox := make([]chan *msg, subs)
	var wg sync.WaitGroup
	for i := range inbox {
		inbox[i] = make(chan *msg, 64)
		wg.Go(func() {
			for range publishes {
				<-inbox[i]
			}
		})
	}
	start, cpu := time.Now(), cpuTime()
	for range publishes {
		m := &msg{"bench.x", "event"}
		for _, in := range inbox {
			in <- m
		}
	}
	wg.Wait()
	total := float64(publishes * subs)
	b.ReportMetric(total/time.Since(start).Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpuTime()-cpu)/total, "cpu-ns/delivery")
}

func floorTasks(b *testing.B, workers, prefetch int) {
	type task struct {
		id      int
		confirm chan struct{}
	}
	submit := make(chan task)
	acks := make(chan int, workers*prefetch)
	finished := make(chan struct{})
	work := make([]chan int, workers)
	for i := range work {
		work[i] = make(chan int, prefetch)
	}
	var wg sync.WaitGroup
	for i := range work {
		wg.Go(func() {
			for id := range work[i] {
				acks <- id
			}
		})
	}
	go func() { // the queue
		var backlog []int
		inFlight := make([]int, workers)
		owner := make(map[int]int)
		acked, next := 0, 0
		dispatch := func() {
			for len(backlog) > 0 {
				w := next
				for range workers {
					if inFlight[w] < prefetch {
						break
					}
					w = (w + 1) % workers
				}
				if inFlight[w] >= prefetch {
					return
				}
				id := backlog[0]
				backlog = backlog[1:]
				inFlight[w]++
				owner[id] = w
				work[w] <- id
				next = (w + 1) % workers
			}
		}
		for acked < b.N {
			select {
			case t := <-submit:
				backlog = append(backlog, t.id)
				t.confirm <- struct{}{}
			case id := <-acks:
				inFlight[owner[id]]--
				delete(owner, id)
				acked++
			}
			dispatch()
		}
		for _, w := range work {
			close(w)
		}
		close(finished)
	}()
	start, cpu := time.Now(), cpuTime()
	var producers sync.WaitGroup
	for p := range benchProducers {
		producers.Go(func() {
			confirm := make(chan struct{}, 1)
			for id := p; id < b.N; id += benchProducers {
				submit <- task{id, confirm}
				<-confirm
			}
		})
	}
	producers.Wait()
	<-finished
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tasks/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/task")
}
