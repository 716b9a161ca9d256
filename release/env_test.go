package release_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/release"
	"github.com/switchboard-go/switchboard/supervisor"
)

const webFile = `[node]
name = "a@localhost"
listen = "127.0.0.1:0"
tick_time = "2s"

[apps.db]
restart = "transient"

[apps.web.env]
port = 9000
debug = true
timeout = "250ms"
ratio = 1
peers = ["x", "y"]
`

func TestSettingsAndDefaults(t *testing.T) {
	r, err := release.Parse("r.toml", []byte(webFile), testApps(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Node.Name != "a@localhost" || r.Node.Listen != "127.0.0.1:0" || r.Node.TickTime != 2*time.Second {
		t.Errorf("node %+v", r.Node)
	}
	names := []string{}
	for _, a := range r.Apps {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"db", "web"}) || r.Apps[0].Restart != supervisor.Transient || r.Apps[1].Restart != supervisor.Permanent {
		t.Fatalf("apps %v, restarts %v %v", names, r.Apps[0].Restart, r.Apps[1].Restart)
	}
	e := r.Apps[1].Env
	if port.Get(e) != 9000 || host.Get(e) != "localhost" || !debug.Get(e) || timeout.Get(e) != 250*time.Millisecond ||
		ratio.Get(e) != 1.0 || !slices.Equal(peers.Get(e), []string{"x", "y"}) {
		t.Errorf("env: %v %v %v %v %v %v", port.Get(e), host.Get(e), debug.Get(e), timeout.Get(e), ratio.Get(e), peers.Get(e))
	}
	// A key the application does not declare has its default.
	other := release.NewKey("other", 7, "")
	if other.Get(e) != 7 {
		t.Errorf("undeclared key: %v", other.Get(e))
	}
	if _, ok := e.Lookup("other"); ok {
		t.Error("Lookup finds an undeclared key")
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	vars := map[string]string{
		"SWITCHBOARD_WEB_PORT":    "9100",
		"SWITCHBOARD_WEB_HOST":    "example.org",
		"SWITCHBOARD_WEB_DEBUG":   "false",
		"SWITCHBOARD_WEB_TIMEOUT": "1m",
		"SWITCHBOARD_WEB_RATIO":   "0.25",
		"SWITCHBOARD_WEB_PEERS":   "p, q,r",
		"SWITCHBOARD_NODE_NAME":   "b@localhost",
		"SWITCHBOARD_NODE_SEEDS":  "127.0.0.1:7001,127.0.0.1:7002",
		"SWITCHBOARD_DB_PORT":     "1", // db declares no port: ignored
	}
	r, err := release.Parse("r.toml", []byte(webFile), testApps(), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	e := r.Apps[1].Env
	if port.Get(e) != 9100 || host.Get(e) != "example.org" || debug.Get(e) || timeout.Get(e) != time.Minute ||
		ratio.Get(e) != 0.25 || !slices.Equal(peers.Get(e), []string{"p", "q", "r"}) {
		t.Errorf("env: %v %v %v %v %v %v", port.Get(e), host.Get(e), debug.Get(e), timeout.Get(e), ratio.Get(e), peers.Get(e))
	}
	if r.Node.Name != "b@localhost" || !slices.Equal(r.Node.Seeds, []string{"127.0.0.1:7001", "127.0.0.1:7002"}) {
		t.Errorf("node %+v", r.Node)
	}
	if got := release.EnvVar("users.core", "max-conns"); got != "SWITCHBOARD_USERS_CORE_MAX_CONNS" {
		t.Errorf("EnvVar = %s", got)
	}
}

// Two keys whose variables would be the same are refused.
func TestEnvironmentCollision(t *testing.T) {
	apps := release.Apps{
		"users":      emptyApp(release.NewKey("core_port", 1, "")),
		"users_core": emptyApp(release.NewKey("port", 1, "")),
	}
	_, err := release.Parse("r.toml", []byte(goodHead+"[apps.users]\n[apps.users_core]\n"), apps, nil)
	if !errors.Is(err, release.ErrBadApp) {
		t.Fatalf("err = %v", err)
	}
	want := "r.toml: $SWITCHBOARD_USERS_CORE_PORT (apps.users_core.env.port): bad application: the environment variable also names apps.users.env.core_port; rename one"
	if err.Error() != want {
		t.Errorf("message\n got %s\nwant %s", err, want)
	}
}

func TestNewEnv(t *testing.T) {
	e, err := release.NewEnv("web", []release.AnyKey{port, timeout}, map[string]any{"port": 1, "timeout": "2s"})
	if err != nil {
		t.Fatal(err)
	}
	if port.Get(e) != 1 || timeout.Get(e) != 2*time.Second || e.App() != "web" {
		t.Errorf("%v %v", port.Get(e), timeout.Get(e))
	}
	if _, err := release.NewEnv("web", []release.AnyKey{port}, map[string]any{"port": "1"}); !errors.Is(err, release.ErrWrongType) {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := release.NewEnv("web", []release.AnyKey{port}, map[string]any{"prot": 1}); !errors.Is(err, release.ErrUnknownKey) {
		t.Errorf("unknown key: %v", err)
	}
}

// consul_ttl is read from the file or the environment, with consul.
func TestConsulTTL(t *testing.T) {
	file := goodHead + "listen = \"127.0.0.1:0\"\nconsul = \"127.0.0.1:8500\"\nconsul_ttl = \"2s\"\n"
	r, err := release.Parse("r.toml", []byte(file), testApps(), nil)
	if err != nil || r.Node.ConsulTTL != 2*time.Second {
		t.Fatalf("consul_ttl: %v, %v", r, err)
	}
	r, err = release.Parse("r.toml", []byte(file), testApps(), env(map[string]string{"SWITCHBOARD_NODE_CONSUL_TTL": "1500ms"}))
	if err != nil || r.Node.ConsulTTL != 1500*time.Millisecond {
		t.Fatalf("SWITCHBOARD_NODE_CONSUL_TTL: %v, %v", r, err)
	}
	if _, err := release.Parse("r.toml", []byte(file), testApps(), env(map[string]string{"SWITCHBOARD_NODE_CONSUL_TTL": "-1s"})); !errors.Is(err, release.ErrBadValue) {
		t.Fatalf("a negative TTL: %v, want ErrBadValue", err)
	}
}
