package release_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-go/switchboard/release"
)

const goodHead = `[node]
name = "a@localhost"
`

// TestErrors: each bad input is a *Error wrapping its sentinel, whose
// message names the file, the line and the key.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, file string
		vars       map[string]string
		want       error
		msg        string
	}{
		{"unknown application", goodHead + "[apps.web]\n[apps.mail]\n", nil, release.ErrUnknownApp,
			`r.toml:4: apps.mail: unknown application: "mail" is not an application of this program (it has db, web)`},
		{"unknown key", goodHead + "[apps.db]\n[apps.web.env]\nprot = 80\n", nil, release.ErrUnknownKey,
			`r.toml:5: apps.web.env.prot: unknown key: known keys: port, host, debug, timeout, ratio, peers`},
		{"unknown node key", goodHead + "listen_on = \"x\"\n", nil, release.ErrUnknownKey,
			`r.toml:3: node.listen_on: unknown key: known keys: name, listen, cookie, cookie_file, tick_time, seeds, lock_dir, consul, consul_ttl, metrics_addr`},
		{"unknown table", goodHead + "[application.web]\n", nil, release.ErrUnknownKey,
			`r.toml:3: application: unknown key: known keys: node, apps, exchanges`},
		{"wrong type", goodHead + "[apps.db]\n[apps.web.env]\nport = \"80\"\n", nil, release.ErrWrongType,
			`r.toml:5: apps.web.env.port: wrong type: want an integer, got string "80"`},
		{"wrong type in a list", goodHead + "[apps.db]\n[apps.web.env]\npeers = [\"a\", 2]\n", nil, release.ErrWrongType,
			`r.toml:5: apps.web.env.peers: wrong type: want a list of strings, element 1 is integer 2`},
		{"wrong type of table", "apps = 3\n" + goodHead, nil, release.ErrWrongType,
			`r.toml:1: apps: wrong type: want a table, got integer 3`},
		{"bad duration", goodHead + "[apps.db]\n[apps.web.env]\ntimeout = \"5\"\n", nil, release.ErrBadValue,
			`r.toml:5: apps.web.env.timeout: bad value: bad duration "5" (want a number and a unit: 300ms, 1.5s, 2m)`},
		{"bad duration in the environment", goodHead + "[apps.db]\n[apps.web]\n", map[string]string{"SWITCHBOARD_WEB_TIMEOUT": "soon"}, release.ErrBadValue,
			`environment: $SWITCHBOARD_WEB_TIMEOUT (apps.web.env.timeout): bad value: bad duration "soon" (want a number and a unit: 300ms, 1.5s, 2m)`},
		{"wrong type in the environment", goodHead + "[apps.db]\n[apps.web]\n", map[string]string{"SWITCHBOARD_WEB_PORT": "eighty"}, release.ErrWrongType,
			`environment: $SWITCHBOARD_WEB_PORT (apps.web.env.port): wrong type: want an int, got "eighty"`},
		{"duplicate application", goodHead + "[apps.db]\n[apps.web]\n[apps.db]\n", nil, release.ErrDuplicateApp,
			`r.toml:5: apps.db: duplicate application: declared twice`},
		{"bad exchange kind", goodHead + "[exchanges.time]\nkind = \"rpc\"\n", nil, release.ErrBadExchange,
			`r.toml:4: exchanges.time.kind: bad exchange declaration: kind "rpc": request, pubsub or tasks`},
		{"exchange without kind", goodHead + "[exchanges.time]\nstrategy = \"sticky\"\n", nil, release.ErrBadExchange,
			`r.toml:3: exchanges.time.kind: bad exchange declaration: no kind (request, pubsub or tasks)`},
		{"exchange strategy needing code", goodHead + "[exchanges.time]\nkind = \"request\"\nstrategy = \"func\"\n", nil, release.ErrBadExchange,
			`r.toml:5: exchanges.time.strategy: bad exchange declaration: strategy "func": one of broadcast, round_robin, leader, leader_round_robin, sticky (sticky_func and func need code: start such an exchange in an application)`},
		{"exchange key of another kind", goodHead + "[exchanges.time]\nkind = \"pubsub\"\nack_timeout = \"1s\"\n", nil, release.ErrUnknownKey,
			`r.toml:5: exchanges.time.ack_timeout: unknown key: known keys: upstream, upstream_node, max_payload, kind`},
		{"exchange spec refused", goodHead + "[exchanges.jobs]\nkind = \"tasks\"\nmax_priority = 300\n", nil, release.ErrBadExchange,
			`r.toml:3: exchanges.jobs: bad exchange declaration: MaxPriority 300 outside 0..255`},
		{"duplicate exchange", goodHead + "[exchanges.time]\nkind = \"request\"\n[exchanges.time]\n", nil, release.ErrBadExchange,
			`r.toml:5: exchanges.time: bad exchange declaration: declared twice`},
		{"missing dependency", goodHead + "[apps.web]\n", nil, release.ErrUnknownApp,
			`r.toml:3: apps.web: unknown application: it depends on "db", which this release does not run`},
		{"plain on distributed", goodHead + "[apps.web]\n[apps.db]\nnodes = [\"a@localhost\", \"b@localhost\"]\n", nil, release.ErrBadApp,
			`r.toml:3: apps.web: bad application: it depends on "db", a distributed application, which may run on another node`},
		{"node not listed", goodHead + "[apps.db]\nnodes = [[\"b@localhost\", \"c@localhost\"]]\n", nil, release.ErrBadApp,
			`r.toml:4: apps.db.nodes: bad application: this node (a@localhost) is not in the list`},
		{"bad restart", goodHead + "[apps.db]\nrestart = \"always\"\n", nil, release.ErrBadValue,
			`r.toml:4: apps.db.restart: bad value: "always": permanent, transient or temporary`},
		{"seeds without listen", goodHead + "seeds = [\"127.0.0.1:7001\"]\n", nil, release.ErrBadValue,
			`r.toml: node.listen: bad value: required with seeds or consul (the address other nodes dial)`},
		{"consul_ttl without consul", goodHead + "consul_ttl = \"2s\"\n", nil, release.ErrBadValue,
			`r.toml:3: node.consul_ttl: bad value: a positive duration, with consul`},
		{"no node name", "[apps.db]\n", nil, release.ErrBadValue,
			`r.toml: node.name: bad value: required (name@host)`},
		{"syntax", goodHead + "[apps.db\n", nil, release.ErrSyntax,
			`r.toml:4: node: syntax error: expected '.' or ']' to end table name, but got '\n' instead`},
		{"missing cookie file", goodHead + "cookie_file = \"nope\"\n", nil, release.ErrMissingFile,
			`r.toml:3: node.cookie_file: missing file: open nope: no such file or directory`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := release.Parse("r.toml", []byte(c.file), testApps(), env(c.vars))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var re *release.Error
			if !errors.As(err, &re) {
				t.Fatalf("err %T is not a *release.Error", err)
			}
			if err.Error() != c.msg {
				t.Errorf("message\n got %s\nwant %s", err, c.msg)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.toml")
	_, err := release.Load(path, testApps())
	if !errors.Is(err, release.ErrMissingFile) {
		t.Fatalf("err = %v", err)
	}
	if want := path + ": missing file: no such file"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if err := os.WriteFile(path, []byte(goodHead+"[apps.db]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := release.Load(path, testApps()); err != nil {
		t.Fatal(err)
	}
}
