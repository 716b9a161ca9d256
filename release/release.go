package release

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/switchboard-go/switchboard/supervisor"
)

// Release is a validated release file: the node, its exchanges and its
// applications with their environments, ready to Start.
type Release struct {
	// File is the file it was read from.
	File string
	// Node is the [node] table, with the environment's overrides.
	Node NodeConfig
	// Exchanges are the node's static exchange points, by name.
	Exchanges []ExchangeConfig
	// Apps are the applications of the node in start order: the plain
	// ones, each after its dependencies, then the distributed ones.
	Apps []AppConfig

	apps Apps
}

// NodeConfig is the [node] table of a release file.
type NodeConfig struct {
	Name     string        // name@host; required
	Listen   string        // host:port of the transport; empty: a local-only node
	Cookie   string        // the cluster's cookie, from cookie or cookie_file
	TickTime time.Duration // actor.Config.TickTime; 0: its default
	// Membership: the embedded provider with Seeds and LockDir, or Consul
	// at the agent address Consul (host:port) if set.
	Seeds   []string
	LockDir string
	Consul  string
	// ConsulTTL is the node's health check TTL with Consul (consul_ttl,
	// cluster.ConsulConfig.TTL): how soon a node that stops answering is
	// seen down; 0: its default (3 s).
	ConsulTTL time.Duration
	// MetricsAddr, if set, is where the node serves /metrics, /healthz
	// and /readyz (package ops; host:port, port 0 picks a free one).
	MetricsAddr string
}

// AppConfig is an application of a release file.
type AppConfig struct {
	Name    string
	Restart supervisor.Restart // default Permanent
	// Nodes, if set, make the application distributed (distapp.Spec.Nodes):
	// it runs on one node of the list at a time, by priority.
	Nodes                            [][]string
	FailoverTimeout, TakeoverTimeout time.Duration
	Env                              Env
}

// Distributed reports whether the application is distributed.
func (a AppConfig) Distributed() bool { return len(a.Nodes) > 0 }

// Load reads, checks and returns the release file at path for the
// applications apps, with the overrides of the process's environment
// (os.LookupEnv). Every error is a *Error naming the file and the key (see
// the Err* sentinels).
func Load(path string, apps Apps) (*Release, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		detail := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			detail = "no such file"
		}
		return nil, &Error{File: path, Err: ErrMissingFile, Detail: detail}
	}
	return Parse(path, data, apps, os.LookupEnv)
}

// MaxFileSize bounds a release file: each error finds its key's line by
// asking the parser, whose answer copies the file, so that a file of many
// keys costs keys × size.
const MaxFileSize = 1 << 20

// Parse is Load of the release file data, read from file (the name in its
// errors, and the directory a relative cookie_file is in), with the
// environment variables of lookupEnv (nil: none).
func Parse(file string, data []byte, apps Apps, lookupEnv func(string) (string, bool)) (*Release, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	if len(data) > MaxFileSize {
		return nil, &Error{File: file, Err: ErrSyntax, Detail: fmt.Sprintf("%d bytes, more than %d", len(data), MaxFileSize)}
	}
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		return nil, syntaxErr(file, err)
	}
	d := &decoder{file: file, md: md, lookup: lookupEnv, vars: map[string]string{}}
	r := &Release{File: file, apps: apps}
	for _, name := range d.inFileOrder(top) {
		switch name {
		case "node", "apps", "exchanges":
		default:
			return nil, d.unknown(name, top[name], []string{"node", "apps", "exchanges"})
		}
	}
	node := map[string]toml.Primitive{}
	if p, ok := top["node"]; ok {
		if node, err = d.table("node", p); err != nil {
			return nil, err
		}
	}
	if r.Node, err = d.node(node, filepath.Dir(file)); err != nil {
		return nil, err
	}
	if p, ok := top["exchanges"]; ok {
		if r.Exchanges, err = d.exchanges(p); err != nil {
			return nil, err
		}
	}
	if p, ok := top["apps"]; ok {
		if r.Apps, err = d.apps(p, apps, r.Node.Name); err != nil {
			return nil, err
		}
	}
	return r, nil
}

var nodeKeys = []keySpec{
	{"name", kString, ""},
	{"listen", kString, ""},
	{"cookie", kString, ""},
	{"cookie_file", kString, ""},
	{"tick_time", kDuration, time.Duration(0)},
	{"seeds", kStrings, []string(nil)},
	{"lock_dir", kString, ""},
	{"consul", kString, ""},
	{"consul_ttl", kDuration, time.Duration(0)},
	{"metrics_addr", kString, ""},
}

func (d *decoder) node(t map[string]toml.Primitive, dir string) (NodeConfig, error) {
	v, err := d.settings("node", t, nodeKeys, "SWITCHBOARD_NODE_")
	if err != nil {
		return NodeConfig{}, err
	}
	n := NodeConfig{
		Name: v["name"].(string), Listen: v["listen"].(string), Cookie: v["cookie"].(string),
		TickTime: v["tick_time"].(time.Duration), Seeds: v["seeds"].([]string),
		LockDir: v["lock_dir"].(string), Consul: v["consul"].(string), ConsulTTL: v["consul_ttl"].(time.Duration), MetricsAddr: v["metrics_addr"].(string),
	}
	at := func(key string) int {
		if p, ok := t[key]; ok {
			return d.line(p)
		}
		return 0
	}
	switch {
	case n.Name == "":
		return n, &Error{File: d.file, Key: "node.name", Err: ErrBadValue, Detail: "required (name@host)"}
	case !validName(n.Name):
		return n, &Error{File: d.file, Line: at("name"), Key: "node.name", Err: ErrBadValue, Detail: fmt.Sprintf("%q: printable ASCII, no '/', no space", n.Name)}
	case n.TickTime < 0:
		return n, &Error{File: d.file, Line: at("tick_time"), Key: "node.tick_time", Err: ErrBadValue, Detail: "negative"}
	case n.ConsulTTL < 0 || n.ConsulTTL > 0 && n.Consul == "":
		return n, &Error{File: d.file, Line: at("consul_ttl"), Key: "node.consul_ttl", Err: ErrBadValue, Detail: "a positive duration, with consul"}
	case n.Consul != "" && len(n.Seeds) > 0:
		return n, &Error{File: d.file, Line: at("consul"), Key: "node.consul", Err: ErrBadValue, Detail: "set consul or seeds, not both"}
	case len(n.Seeds) > 0 && n.Listen == "" || n.Consul != "" && n.Listen == "":
		return n, &Error{File: d.file, Key: "node.listen", Err: ErrBadValue, Detail: "required with seeds or consul (the address other nodes dial)"}
	case slices.Contains(n.Seeds, ""):
		return n, &Error{File: d.file, Line: at("seeds"), Key: "node.seeds", Err: ErrBadValue, Detail: "empty seed address"}
	}
	if f := v["cookie_file"].(string); f != "" {
		if n.Cookie != "" {
			return n, &Error{File: d.file, Line: at("cookie_file"), Key: "node.cookie_file", Err: ErrBadValue, Detail: "set cookie or cookie_file, not both"}
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return n, &Error{File: d.file, Line: at("cookie_file"), Key: "node.cookie_file", Err: ErrMissingFile, Detail: err.Error()}
		}
		if n.Cookie = strings.TrimSpace(string(b)); n.Cookie == "" {
			return n, &Error{File: d.file, Line: at("cookie_file"), Key: "node.cookie_file", Err: ErrBadValue, Detail: f + " is empty"}
		}
	}
	return n, nil
}

// The keys of an application's table besides its env.
var appKeys = []keySpec{
	{"restart", kString, "permanent"},
	{"nodes", kNodes, [][]string(nil)},
	{"failover_timeout", kDuration, time.Duration(0)},
	{"takeover_timeout", kDuration, time.Duration(0)},
}

func (d *decoder) apps(p toml.Primitive, registry Apps, self string) ([]AppConfig, error) {
	t, err := d.table("apps", p)
	if err != nil {
		return nil, err
	}
	byName := map[string]AppConfig{}
	for _, name := range d.inFileOrder(t) {
		path := "apps." + name
		app, ok := registry[name]
		if !ok {
			return nil, &Error{File: d.file, Line: d.line(t[name]), Key: path, Err: ErrUnknownApp,
				Detail: fmt.Sprintf("%q is not an application of this program (it has %s)", name, strings.Join(slices.Sorted(maps.Keys(registry)), ", "))}
		}
		if !validAppName(name) || app.Start == nil {
			return nil, &Error{File: d.file, Line: d.line(t[name]), Key: path, Err: ErrBadApp, Detail: "an App needs a Start, and a name of letters, digits, '_', '-' and '.'"}
		}
		at, err := d.table(path, t[name])
		if err != nil {
			return nil, err
		}
		v, err := d.settings(path, at, appKeys, "", "env")
		if err != nil {
			return nil, err
		}
		cfg := AppConfig{Name: name, Nodes: v["nodes"].([][]string),
			FailoverTimeout: v["failover_timeout"].(time.Duration), TakeoverTimeout: v["takeover_timeout"].(time.Duration)}
		line := func(key string) int { return d.line(at[key]) }
		if cfg.Restart, ok = restarts[v["restart"].(string)]; !ok {
			return nil, &Error{File: d.file, Line: line("restart"), Key: path + ".restart", Err: ErrBadValue, Detail: fmt.Sprintf("%q: permanent, transient or temporary", v["restart"])}
		}
		if cfg.FailoverTimeout < 0 || cfg.TakeoverTimeout < 0 {
			return nil, &Error{File: d.file, Line: d.line(t[name]), Key: path, Err: ErrBadValue, Detail: "negative timeout"}
		}
		if !cfg.Distributed() && (cfg.FailoverTimeout > 0 || cfg.TakeoverTimeout > 0) {
			return nil, &Error{File: d.file, Line: d.line(t[name]), Key: path, Err: ErrBadApp, Detail: "failover_timeout and takeover_timeout need nodes (a distributed application)"}
		}
		if cfg.Distributed() {
			if err := checkNodes(cfg.Nodes, self); err != nil {
				return nil, &Error{File: d.file, Line: line("nodes"), Key: path + ".nodes", Err: ErrBadApp, Detail: err.Error()}
			}
		}
		env := map[string]toml.Primitive{}
		if p, ok := at["env"]; ok {
			if env, err = d.table(path+".env", p); err != nil {
				return nil, err
			}
		}
		if cfg.Env, err = d.env(path+".env", name, app.Keys, env); err != nil {
			return nil, err
		}
		byName[name] = cfg
	}
	return d.order(t, byName, registry)
}

func (d *decoder) env(path, app string, keys []AnyKey, t map[string]toml.Primitive) (Env, error) {
	e, err := defaultEnv(app, keys)
	if err != nil {
		return Env{}, err
	}
	specs := make([]keySpec, len(keys))
	for i, k := range keys {
		specs[i] = k.spec()
	}
	if e.vals, err = d.settings(path, t, specs, EnvVar(app, "")); err != nil {
		return Env{}, err
	}
	return e, nil
}

var restarts = map[string]supervisor.Restart{
	"permanent": supervisor.Permanent, "transient": supervisor.Transient, "temporary": supervisor.Temporary,
}

func checkNodes(nodes [][]string, self string) error {
	seen := map[string]bool{}
	for _, g := range nodes {
		if len(g) == 0 {
			return errors.New("an empty group of nodes")
		}
		for _, n := range g {
			if !validName(n) || seen[n] {
				return fmt.Errorf("node %q is not a name, or is listed twice", n)
			}
			seen[n] = true
		}
	}
	if !seen[self] {
		return fmt.Errorf("this node (%s) is not in the list", self)
	}
	return nil
}

// order sorts the applications: the plain ones, each after its
// dependencies, then the distributed ones, each after its dependencies,
// which must be plain.
func (d *decoder) order(t map[string]toml.Primitive, cfgs map[string]AppConfig, registry Apps) ([]AppConfig, error) {
	var out []AppConfig
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 1:
			return &Error{File: d.file, Line: d.line(t[name]), Key: "apps." + name, Err: ErrBadApp, Detail: "dependency cycle " + strings.Join(append(path, name), " -> ")}
		case 2:
			return nil
		}
		state[name] = 1
		cfg := cfgs[name]
		for _, dep := range registry[name].Deps {
			dc, ok := cfgs[dep]
			if !ok {
				return &Error{File: d.file, Line: d.line(t[name]), Key: "apps." + name, Err: ErrUnknownApp, Detail: fmt.Sprintf("it depends on %q, which this release does not run", dep)}
			}
			if dc.Distributed() {
				return &Error{File: d.file, Line: d.line(t[name]), Key: "apps." + name, Err: ErrBadApp, Detail: fmt.Sprintf("it depends on %q, a distributed application, which may run on another node", dep)}
			}
			if err := visit(dep, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, cfg)
		return nil
	}
	names := d.inFileOrder(t)
	for _, distributed := range []bool{false, true} {
		for _, name := range names {
			if cfgs[name].Distributed() == distributed {
				if err := visit(name, nil); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// validName: a node or application name as the cluster takes it
// (printable ASCII, no '/', no space).
func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == '/' {
			return false
		}
	}
	return true
}

func validAppName(s string) bool {
	return s != "" && len(s) <= 100 && validKeyName(strings.ReplaceAll(s, ".", "_"))
}
