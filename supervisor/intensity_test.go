package supervisor

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

func TestRestartWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cases := []struct {
		name   string
		max    int
		period time.Duration
		times  []float64
		want   []bool
	}{
		{"erlang default: 1 in 5s", 1, 5 * time.Second, []float64{0, 1}, []bool{true, false}},
		{"spaced out", 1, 5 * time.Second, []float64{0, 5, 10, 15}, []bool{true, true, true, true}},
		{"three in ten", 3, 10 * time.Second, []float64{0, 1, 2, 3}, []bool{true, true, true, false}},
		{"window slides", 2, 10 * time.Second, []float64{0, 1, 10.5, 11.5}, []bool{true, true, true, true}},
		{"zero intensity", 0, time.Second, []float64{0}, []bool{false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := restartWindow{max: c.max, period: c.period}
			for i, s := range c.times {
				if got := w.add(at(s)); got != c.want[i] {
					t.Fatalf("restart %d at %vs: ok=%v; want %v", i, s, got, c.want[i])
				}
			}
		})
	}
}

func TestSpecValidate(t *testing.T) {
	ok := Worker("w", nil)
	ok.Start = func(context.Context, *actor.Process, any) (*actor.PID, error) { return nil, nil }
	bad := []Spec{
		{Strategy: Strategy(9)},
		{Intensity: -1},
		{Strategy: SimpleOneForOne},
		{Children: []ChildSpec{ok, ok}},
		{Children: []ChildSpec{{ID: "x"}}},
		{Children: []ChildSpec{{Start: ok.Start}}},
		{Children: []ChildSpec{{ID: "x", Start: ok.Start, Shutdown: -2}}},
	}
	for i, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("spec %d validated: %+v", i, s)
		}
	}
	if err := (Spec{Children: []ChildSpec{ok}}).Validate(); err != nil {
		t.Fatal(err)
	}
}
