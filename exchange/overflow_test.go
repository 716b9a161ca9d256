package exchange

import (
	"errors"
	"testing"
)

func TestOverflowNamesAndValidate(t *testing.T) {
	for o, name := range map[Overflow]string{OverflowDefault: "default", OverflowReject: "reject", OverflowBlock: "block", OverflowDropOldest: "drop-oldest"} {
		if o.String() != name || o.Validate() != nil {
			t.Errorf("%d: %q, %v", int(o), o.String(), o.Validate())
		}
	}
	for _, o := range []Overflow{-1, 4} {
		if err := o.Validate(); !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("Overflow(%d).Validate() = %v, want ErrInvalidSpec", int(o), err)
		}
	}
}
