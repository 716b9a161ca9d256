// Package release boots a node from a release file: the node, its
// membership, its static exchange points and its applications, each
// application with its environment (OTP's application:get_env), as a
// release and its sys.config do in Erlang.
//
// # Applications and their keys
//
// A program offers its applications by name in an Apps value; each App
// declares the keys of its environment, typed, with a default and a line
// of documentation, and reads them in its Start:
//
//	var Port = release.NewKey("port", 8080, "the port it listens on")
//
//	var App = release.App{
//		Keys: []release.AnyKey{Port},
//		Deps: []string{"db"},
//		Start: func(ctx context.Context, n *actor.Node, env release.Env, t supervisor.StartType) (*actor.PID, error) {
//			port := Port.Get(env) // an int
//			...
//		},
//	}
//
//	r, err := release.Load("releases/web.toml", release.Apps{"web": App, "db": db.App})
//	run, err := r.Start(ctx, release.Options{})
//	defer run.Stop(ctx)
//
// Key types are string, int, bool, float64, time.Duration and []string.
//
// # The release file
//
// A release file is TOML, one per node role:
//
//	[node]
//	name = "users1@10.0.0.5"          # required
//	listen = "10.0.0.5:7001"          # the transport; empty: a local-only node
//	cookie_file = "cookie"            # or cookie = "..."; relative to this file
//	tick_time = "4s"                  # actor.Config.TickTime
//	seeds = ["10.0.0.4:7001"]         # embedded membership (the default) ...
//	lock_dir = "/var/run/switchboard" # ... and its locks (distributed applications)
//	# consul = "127.0.0.1:8500"       # or Consul membership, instead of seeds
//	# consul_ttl = "2s"               # its health check TTL (default 3s)
//
//	[exchanges.users]                 # static exchange points, started first
//	kind = "request"                  # request, pubsub or tasks
//	strategy = "round_robin"          # broadcast, round_robin, leader, leader_round_robin, sticky
//	                                  # max_payload, max_hops, idempotency_window,
//	                                  # idempotency_max_keys, idempotency_max_bytes
//	[exchanges.profile-events]
//	kind = "pubsub"                   # upstream, upstream_node (a proxy), max_payload
//	[exchanges.documents]
//	kind = "tasks"                    # ack_timeout, max_deliveries, max_queue, max_priority,
//	ack_timeout = "30s"               # dead_letter, dead_letter_node, dead_letter_key, max_payload
//	dead_letter = "documents-dead"
//
//	[apps.db]                         # a plain application
//	restart = "permanent"             # permanent (default), transient, temporary
//
//	[apps.users]                      # a distributed application (distapp.Spec)
//	nodes = ["users1@10.0.0.5", ["users2@10.0.0.6", "users3@10.0.0.7"]]
//	failover_timeout = "2s"           # and takeover_timeout
//
//	[apps.users.env]                  # the application's keys
//	port = 9000
//	timeout = "1.5s"                  # durations are strings: 300ms, 1.5s, 2m
//	peers = ["a", "b"]
//
// The node's applications are those of [apps]. They start in dependency
// order (App.Deps, which must be in the release): the plain ones, then the
// distributed ones; a plain application cannot depend on a distributed
// one, nor a distributed one on another (it might run elsewhere).
//
// # The environment
//
// An environment variable overrides a key of the file, or sets one it
// leaves out: SWITCHBOARD_<APP>_<KEY> for an application's key and
// SWITCHBOARD_NODE_<KEY> for the node's, upper case, every character
// other than a letter or a digit made '_' (see EnvVar): SWITCHBOARD_USERS_PORT=9001,
// SWITCHBOARD_NODE_SEEDS=10.0.0.4:7001,10.0.0.8:7001. The value is parsed as
// the key's type: an integer, true or false, a number, a duration, a
// comma-separated list. Exchanges and an application's restart and nodes
// are set by the file only.
//
// # Errors
//
// Load checks everything before anything starts. Each error is a *Error
// that names the file, the line (where the parser gives it) and the key, or
// the environment variable, and wraps one of ErrMissingFile, ErrSyntax,
// ErrUnknownApp, ErrDuplicateApp, ErrUnknownKey, ErrWrongType, ErrBadValue,
// ErrBadExchange or ErrBadApp:
//
//	releases/web.toml:12: apps.web.env.port: wrong type: want an integer, got string "80"
//	environment: $SWITCHBOARD_WEB_TIMEOUT (apps.web.env.timeout): bad value: bad duration "soon" (...)
package release
