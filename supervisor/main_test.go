package supervisor

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(taskChildEnv) != "" { // see task_process_test.go
		runTaskChild()
		return
	}
	goleak.VerifyTestMain(m)
}
