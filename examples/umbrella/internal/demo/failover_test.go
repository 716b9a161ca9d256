package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/examples/umbrella/apps/users"
	"github.com/switchboard-go/switchboard/exchange"
)

// The users core (its exchange and event hub) runs on core-a; kill -9 of
// core-a moves it to the pre-started standby core-b, and the users
// service answers again; core-a started again takes it back.
func TestUsersCoreFailsOverUnderKill9AndTakesOverBack(t *testing.T) {
	r := startTestRig(t, 1)
	if w := r.where(usersCoreEntry); w != r.core[0] {
		t.Fatalf("users core on %q, want %s", w, r.core[0])
	}
	var ok, failed atomic.Uint64
	var mu sync.Mutex
	var lastOK time.Time
	badKinds := map[string]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a client calling all along
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			sent := time.Now()
			_, err := users.Get(ctx, r.client, users.Config{}, fmt.Sprintf("u%d", i%50))
			cancel()
			mu.Lock()
			if err == nil {
				ok.Add(1)
				lastOK = sent
			} else {
				failed.Add(1)
				if !errors.Is(err, actor.ErrNodeDown) && !errors.Is(err, exchange.ErrExchangeNotFound) && !errors.Is(err, exchange.ErrNoController) {
					badKinds[err.Error()]++
				}
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond) // pacing, not synchronisation
		}
	}()
	answeredSince := func(t0 time.Time) func() (bool, string) {
		return func() (bool, string) {
			mu.Lock()
			defer mu.Unlock()
			return lastOK.After(t0), fmt.Sprintf("%d ok, %d failed", ok.Load(), failed.Load())
		}
	}
	eventually(t, 10*time.Second, "answers before the kill", answeredSince(time.Now()))

	killed := time.Now()
	r.kill(r.core[0])
	eventually(t, 15*time.Second, "the users core on the standby", func() (bool, string) {
		w := r.where(usersCoreEntry)
		return w == r.core[1], "on " + w
	})
	eventually(t, 15*time.Second, "answers after the failover", answeredSince(time.Now()))
	t.Logf("failover: answered again %v after kill -9 of %s (%d calls failed so far)", time.Since(killed).Round(time.Millisecond), r.core[0], failed.Load())

	restarted := time.Now()
	if err := r.spawn(r.core[0], "core"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.await(ctx, r.core[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the users core back on core-a", func() (bool, string) {
		w := r.where(usersCoreEntry)
		return w == r.core[0], "on " + w
	})
	eventually(t, 15*time.Second, "answers after the takeover", answeredSince(time.Now()))
	t.Logf("takeover: core-a runs the users core again, %v after its restart", time.Since(restarted).Round(time.Millisecond))
	close(stop)
	wg.Wait()
	if len(badKinds) > 0 {
		t.Fatalf("calls failed with errors other than node down, exchange not found, no controller: %v", badKinds)
	}
}
