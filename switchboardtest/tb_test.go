package switchboardtest_test

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
)

// failTB is the test's t, except that Fatal and Error record their message
// (Fatal then ends the goroutine, as the real one does): for checking how
// the harness fails a test.
type failTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *failTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func (f *failTB) Fatal(args ...any) {
	f.Error(args...)
	runtime.Goexit()
}

func (f *failTB) Errorf(format string, args ...any) { f.Error(fmt.Sprintf(format, args...)) }

func (f *failTB) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.msg == "" {
		f.msg = fmt.Sprint(args...)
	}
}

// failure runs fn with a failTB of t on a goroutine of its own and returns
// the first failure it reported, "" if none.
func failure(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &failTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg
}

// exampleTB stands in for a test's t in the package's Examples, which have
// none: in a test of yours, pass your t.
type exampleTB struct {
	testing.TB // nil: a method the harness does not use would panic
	cleanups   []func()
}

func (e *exampleTB) Helper()                           {}
func (e *exampleTB) Name() string                      { return "Example" }
func (e *exampleTB) Cleanup(f func())                  { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) Log(args ...any)                   {}
func (e *exampleTB) Logf(format string, args ...any)   {}
func (e *exampleTB) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }
func (e *exampleTB) Fatalf(format string, args ...any) {
	e.Errorf(format, args...)
	runtime.Goexit()
}

func (e *exampleTB) TempDir() string {
	dir, err := os.MkdirTemp("", "switchboardtest-example")
	if err != nil {
		e.Fatalf("%v", err)
	}
	e.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// test runs fn as the body of a test, then its cleanups, last first.
func test(fn func(t testing.TB)) {
	e := &exampleTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(e)
	}()
	<-done
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}
