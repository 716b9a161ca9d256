package distapp_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if runChildIfAsked() {
		return
	}
	goleak.VerifyTestMain(m)
}
