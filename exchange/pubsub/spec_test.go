package pubsub

import (
	"errors"
	"testing"

	"github.com/switchboard-go/switchboard/exchange"
)

// The backpressure fields of a Spec: negative bounds other than
// Unlimited, a negative BlockTimeout and an unknown policy are refused.
func TestSpecValidateBackpressure(t *testing.T) {
	good := []Spec{
		{Name: "a"},
		{Name: "a", MaxBacklog: Unlimited, MaxInbox: Unlimited},
		{Name: "a", MaxBacklog: 5, Overflow: exchange.OverflowBlock, BlockTimeout: 1},
	}
	for _, s := range good {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := []Spec{
		{Name: "a", MaxBacklog: -2},
		{Name: "a", MaxInbox: -2},
		{Name: "a", BlockTimeout: -1},
		{Name: "a", Overflow: 7},
	}
	for _, s := range bad {
		if err := s.Validate(); !errors.Is(err, exchange.ErrInvalidSpec) {
			t.Errorf("%+v: %v, want ErrInvalidSpec", s, err)
		}
	}
}
