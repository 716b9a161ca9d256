package cluster_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if runChildIfAsked() || runScaleChildIfAsked() {
		return
	}
	goleak.VerifyTestMain(m)
}
