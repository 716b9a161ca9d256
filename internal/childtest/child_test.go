package childtest_test

import (
	"bufio"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/childtest"
)

const env = "SWITCHBOARD_CHILDTEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(env) != "" { // the child: say hello, wait for stdin to close
		fmt.Println("noise")
		fmt.Println("READY", os.Getpid())
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Println("BYE")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestStopAndKill(t *testing.T) {
	c := childtest.Start(t, "one", env+"=1")
	if l := c.Expect(t, 20*time.Second, "READY"); l == "" {
		t.Fatal("no READY")
	}
	c.Stop(t, 10*time.Second)
	if c.Alive() {
		t.Fatal("alive after Stop")
	}
	select {
	case l := <-c.Lines():
		if l != "BYE" {
			t.Fatalf("last line %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no last line within 10 s of the stop")
	}
	k := childtest.Start(t, "two", env+"=1")
	k.Expect(t, 20*time.Second, "READY")
	k.Kill()
	if k.Alive() {
		t.Fatal("alive after Kill")
	}
}

// In a test whose TestMain plays the child when its variable is set.
func Example() {
	_ = func(t *testing.T) {
		c := childtest.Start(t, "a", "MY_CHILD=a")
		c.Expect(t, 20*time.Second, "READY")
		c.Stop(t, 10*time.Second)
	}
}
