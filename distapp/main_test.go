package distapp_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if runChildIfAsked() || runTasksChildIfAsked() {
		return
	}
	goleak.VerifyTestMain(m)
}
