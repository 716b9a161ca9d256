package fault

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

var nodes = []string{"n1", "n2", "n3", "n4", "n5"}

func conf(seed uint64) Config {
	return Config{Seed: seed, Duration: 5 * time.Minute, Warmup: 10 * time.Second, Cooldown: 15 * time.Second,
		Nodes: nodes, Gap: 3 * time.Second, MinPause: 4 * time.Second}
}

func TestSameSeedSameSchedule(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		a, err := Schedule(conf(seed))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Schedule(conf(seed))
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("seed %d: two schedules\n%v\n%v", seed, a, b)
		}
		c, _ := Schedule(conf(seed + 1000))
		if fmt.Sprint(a) == fmt.Sprint(c) {
			t.Fatalf("seeds %d and %d give the same schedule", seed, seed+1000)
		}
	}
}

func TestScheduleShape(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		c := conf(seed)
		fs, _ := Schedule(c)
		if len(fs) < 30 {
			t.Errorf("seed %d: %d faults in 5 minutes, want >= 30", seed, len(fs))
		}
		seen := map[string]int{}
		var prevEnd time.Duration
		for i, f := range fs {
			seen[f.Kind]++
			if f.At < c.Warmup || f.At+f.Hold > c.Duration-c.Cooldown {
				t.Errorf("seed %d: fault %v outside [warmup, end - cooldown]", seed, f)
			}
			if i > 0 && f.At < prevEnd+c.Gap/2 {
				t.Errorf("seed %d: fault %v starts %v after the previous one ended", seed, f, f.At-prevEnd)
			}
			prevEnd = f.At + f.Hold
			switch f.Kind {
			case Consul:
				if len(f.Nodes) != 0 {
					t.Errorf("seed %d: %v names nodes", seed, f)
				}
			case Cut:
				if len(f.Nodes) != 2 || f.Nodes[0] == f.Nodes[1] {
					t.Errorf("seed %d: cut %v needs two nodes", seed, f)
				}
			default:
				if len(f.Nodes) != 1 || !slices.Contains(nodes, f.Nodes[0]) {
					t.Errorf("seed %d: %v needs one node", seed, f)
				}
			}
			if f.Kind == Pause && f.Hold < c.MinPause {
				t.Errorf("seed %d: pause %v shorter than %v", seed, f, c.MinPause)
			}
			if f.Kind == Skew && f.Skew <= 0 {
				t.Errorf("seed %d: skew %v without an offset", seed, f)
			}
		}
		for _, k := range Kinds {
			if seen[k] < 4 {
				t.Errorf("seed %d: %d faults of kind %s", seed, seen[k], k)
			}
		}
	}
}

func TestScheduleConfig(t *testing.T) {
	c := conf(1)
	c.Nodes = nodes[:1]
	if _, err := Schedule(c); !errors.Is(err, ErrConfig) {
		t.Errorf("one node: %v, want ErrConfig", err)
	}
	c = conf(1)
	c.Duration = c.Warmup
	if _, err := Schedule(c); !errors.Is(err, ErrConfig) {
		t.Errorf("no room: %v, want ErrConfig", err)
	}
	c = conf(1)
	c.Duration = 20 * time.Second
	c.Warmup, c.Cooldown = 0, 0
	fs, err := Schedule(c)
	if err != nil || len(fs) == 0 {
		t.Errorf("a short run: %v, %v", fs, err)
	}
}

func ExampleSchedule() {
	fs, _ := Schedule(Config{Seed: 7, Duration: 40 * time.Second, Warmup: 5 * time.Second, Cooldown: 5 * time.Second,
		Nodes: []string{"n1", "n2", "n3"}, Gap: 2 * time.Second, MinPause: 4 * time.Second})
	for _, f := range fs {
		fmt.Println(f)
	}
	// Output:
	//       5s kill   n2           hold 2.11s
	//    8.91s slow   n2           hold 4.226s
	//  15.483s skew   n2           hold 2.046s skew 904ms
	//  20.129s consul              hold 1.515s
	//  23.769s pause  n1           hold 5.588s
}
