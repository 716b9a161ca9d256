package ops

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/cluster"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/exchange/pubsub"
	"github.com/switchboard-go/switchboard/exchange/tasks"
	"github.com/switchboard-go/switchboard/inspect"
	"github.com/switchboard-go/switchboard/supervisor"
)

// collector reads the node's counters at scrape time. It is unchecked
// (Describe sends nothing): the exchanges and supervisors it reports
// come and go.
type collector struct{ o *Ops }

func (*collector) Describe(chan<- *prometheus.Desc) {}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("switchboard_"+name, help, labels, nil)
}

// The node's metrics, from actor.Stats.
var nodeMetrics = []struct {
	d     *prometheus.Desc
	gauge bool
	get   func(*actor.Stats) float64
}{
	{desc("processes", "Live processes on the node."), true, func(s *actor.Stats) float64 { return float64(s.Processes) }},
	{desc("process_crashes_total", "Processes that exited with a panic."), false, func(s *actor.Stats) float64 { return float64(s.Crashes) }},
	{desc("spawned_total", "Processes started by spawn requests (SpawnOn and its forms)."), false, func(s *actor.Stats) float64 { return float64(s.Spawned) }},
	{desc("spawns_refused_total", "Spawn requests refused (unknown or refused name, malformed request)."), false, func(s *actor.Stats) float64 { return float64(s.SpawnsRefused) }},
	{desc("transport_frames_received_total", "Frames received from other nodes (ticks not included)."), false, func(s *actor.Stats) float64 { return float64(s.FramesIn) }},
	{desc("transport_frames_sent_total", "Frames sent to other nodes (ticks not included)."), false, func(s *actor.Stats) float64 { return float64(s.FramesOut) }},
	{desc("transport_bad_frames_total", "Frames from other nodes that were too large, undecodable or malformed."), false, func(s *actor.Stats) float64 { return float64(s.BadFrames) }},
	{desc("transport_refused_connections_total", "Connections refused at the handshake (cookie, TLS, version, unconfirmed address, deadline)."), false, func(s *actor.Stats) float64 { return float64(s.Refused) }},
	{desc("transport_unconfirmed_connections_total", "Inbound connections whose claimed address did not confirm them."), false, func(s *actor.Stats) float64 { return float64(s.Unconfirmed) }},
	{desc("transport_spoofed_frames_total", "Frames dropped because their sender named another node than their connection's."), false, func(s *actor.Stats) float64 { return float64(s.Spoofed) }},
	{desc("transport_silent_peers_total", "Connections closed because nothing came from their peer for TickTime."), false, func(s *actor.Stats) float64 { return float64(s.Silent) }},
	{desc("transport_pending_refused_total", "Connections closed at once because too many others were in their handshake."), false, func(s *actor.Stats) float64 { return float64(s.PendingRefused) }},
	{desc("transport_slow_frames_total", "Connections cut because a frame did not arrive whole in time."), false, func(s *actor.Stats) float64 { return float64(s.SlowFrames) }},
	{desc("transport_inflight_waits_total", "Large frames that waited for room under MaxInflightBytes."), false, func(s *actor.Stats) float64 { return float64(s.InflightWaits) }},
	{desc("transport_overloaded_total", "Messages not sent because their node's queue was full."), false, func(s *actor.Stats) float64 { return float64(s.Overloaded) }},
	{desc("transport_replies_dropped_total", "Replies dropped because their caller's node's queue was full (their callers told ErrOverloaded)."), false, func(s *actor.Stats) float64 { return float64(s.RepliesDropped) }},
	{desc("transport_replies_lost_total", "Replies dropped whose callers could not be told either."), false, func(s *actor.Stats) float64 { return float64(s.RepliesLost) }},
	{desc("transport_pending_connections", "Accepted connections in their handshake now."), true, func(s *actor.Stats) float64 { return float64(s.PendingConns) }},
	{desc("transport_inflight_bytes", "Bytes of large frames being read or handled now."), true, func(s *actor.Stats) float64 { return float64(s.InflightBytes) }},
	{desc("transport_queued_bytes", "Bytes queued for other nodes now."), true, func(s *actor.Stats) float64 { return float64(s.QueuedBytes) }},
}

// The traffic with each other node, from actor.Node.PeerStats.
var peerMetrics = []struct {
	d   *prometheus.Desc
	get func(*actor.PeerStats) uint64
}{
	{desc("transport_peer_frames_received_total", "Frames received from the peer (ticks not included).", "peer"), func(s *actor.PeerStats) uint64 { return s.FramesIn }},
	{desc("transport_peer_frames_sent_total", "Frames sent to the peer (ticks not included).", "peer"), func(s *actor.PeerStats) uint64 { return s.FramesOut }},
	{desc("transport_peer_received_bytes_total", "Bytes of the frames received from the peer.", "peer"), func(s *actor.PeerStats) uint64 { return s.BytesIn }},
	{desc("transport_peer_sent_bytes_total", "Bytes of the frames sent to the peer.", "peer"), func(s *actor.PeerStats) uint64 { return s.BytesOut }},
	{desc("transport_peer_bad_frames_total", "Frames from the peer that were too large or did not decode.", "peer"), func(s *actor.PeerStats) uint64 { return s.BadFrames }},
}

var (
	clusterMembers  = desc("cluster_members", "Live members of the cluster as this node sees it, itself included.")
	clusterNames    = desc("cluster_directory_names", "Live entries in the cluster's directory.")
	clusterRejected = desc("cluster_rejected_total", "Malformed greetings and entries the membership provider ignored.")

	exRouted       = desc("exchange_routed_total", "Requests the exchange routed to controllers.", "exchange")
	exRejected     = desc("exchange_rejected_total", "Requests the exchange refused (middleware, strategy, bad request).", "exchange")
	exNoController = desc("exchange_no_controller_total", "Requests the exchange had no controller for.", "exchange")
	exControllers  = desc("exchange_controllers", "Controller connections of the exchange.", "exchange")
	exKeyCounters  = []struct {
		d   *prometheus.Desc
		get func(*exchange.KeyStats) uint64
	}{
		{desc("exchange_keyed_runs_total", "Keyed requests sent to a controller (first runs and runs again).", "exchange"), func(k *exchange.KeyStats) uint64 { return k.Runs }},
		{desc("exchange_keyed_joined_total", "Keyed duplicates that waited for a run in flight.", "exchange"), func(k *exchange.KeyStats) uint64 { return k.Joined }},
		{desc("exchange_keyed_replayed_total", "Keyed duplicates answered from memory.", "exchange"), func(k *exchange.KeyStats) uint64 { return k.Replayed }},
		{desc("exchange_keyed_evicted_total", "Outcomes forgotten before their window ended, to stay within bounds.", "exchange"), func(k *exchange.KeyStats) uint64 { return k.Evicted }},
		{desc("exchange_keyed_refused_total", "Keyed requests refused because runs in flight filled the bounds.", "exchange"), func(k *exchange.KeyStats) uint64 { return k.Refused }},
		{desc("exchange_keyed_conflicts_total", "Keyed requests whose key was in the window with another payload.", "exchange"), func(k *exchange.KeyStats) uint64 { return k.Conflicts }},
	}
	exKeys     = desc("exchange_keys", "Keys the exchange holds now, runs in flight included.", "exchange")
	exKeyBytes = desc("exchange_key_bytes", "Bytes of the keys and outcomes the exchange holds now.", "exchange")

	psSubscriptions = desc("pubsub_subscriptions", "Subscriptions of the pub-sub exchange.", "exchange")
	psSubscribers   = desc("pubsub_subscribers", "Distinct subscribers of the pub-sub exchange.", "exchange")
	psPublished     = desc("pubsub_published_total", "Messages published to the pub-sub exchange.", "exchange")
	psDelivered     = desc("pubsub_delivered_total", "Deliveries to subscribers.", "exchange")
	psRemote        = desc("pubsub_remote_deliveries_total", "Deliveries that crossed to another node.", "exchange")
	psUnmatched     = desc("pubsub_unmatched_total", "Messages no subscription matched.", "exchange")
	psRejected      = desc("pubsub_rejected_total", "Publishes refused.", "exchange")

	tqReady       = desc("tasks_ready", "Tasks waiting for a worker (the queue's depth).", "queue")
	tqInFlight    = desc("tasks_in_flight", "Tasks delivered and not yet settled.", "queue")
	tqWorkers     = desc("tasks_workers", "Workers of the queue.", "queue")
	tqDeadPending = desc("tasks_dead_letter_pending", "Dead tasks the dead-letter target has not accepted yet.", "queue")
	tqCounters    = []struct {
		d   *prometheus.Desc
		get func(*tasks.Stats) uint64
	}{
		{desc("tasks_submitted_total", "Tasks accepted.", "queue"), func(s *tasks.Stats) uint64 { return s.Submitted }},
		{desc("tasks_refused_total", "Submissions refused because the queue was full.", "queue"), func(s *tasks.Stats) uint64 { return s.Refused }},
		{desc("tasks_delivered_total", "Deliveries, first ones and again.", "queue"), func(s *tasks.Stats) uint64 { return s.Delivered }},
		{desc("tasks_redelivered_total", "Deliveries of a task delivered before.", "queue"), func(s *tasks.Stats) uint64 { return s.Redelivered }},
		{desc("tasks_acked_total", "Tasks completed.", "queue"), func(s *tasks.Stats) uint64 { return s.Acked }},
		{desc("tasks_nacked_total", "Tasks a worker gave back.", "queue"), func(s *tasks.Stats) uint64 { return s.Nacked }},
		{desc("tasks_expired_total", "Tasks taken back at their ack timeout.", "queue"), func(s *tasks.Stats) uint64 { return s.Expired }},
		{desc("tasks_rejected_total", "Tasks a worker rejected.", "queue"), func(s *tasks.Stats) uint64 { return s.Rejected }},
		{desc("tasks_dead_lettered_total", "Tasks that died (delivery limit, rejected, bad payload).", "queue"), func(s *tasks.Stats) uint64 { return s.DeadLettered }},
		{desc("tasks_discarded_total", "Dead tasks dropped for want of a dead-letter target.", "queue"), func(s *tasks.Stats) uint64 { return s.Discarded }},
	}

	appsRunning  = desc("applications_running", "Applications running on the node.")
	supRestarts  = desc("supervisor_restarts_total", "Restarts a supervisor applied, by application and supervisor (the path of child ids under the application's top supervisor).", "application", "supervisor")
	scrapeErrors = desc("scrape_errors", "Inspections that failed during this scrape (an exchange or supervisor that did not answer in time).")
)

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	o := c.o
	n := o.cfg.Node
	st := n.Stats()
	for _, m := range nodeMetrics {
		t := prometheus.CounterValue
		if m.gauge {
			t = prometheus.GaugeValue
		}
		ch <- prometheus.MustNewConstMetric(m.d, t, m.get(&st))
	}
	for _, ps := range n.PeerStats() {
		for _, m := range peerMetrics {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.get(&ps)), ps.Peer)
		}
	}
	if cl := cluster.From(n); cl != nil {
		cs := cl.Stats()
		ch <- prometheus.MustNewConstMetric(clusterMembers, prometheus.GaugeValue, float64(cs.Members))
		ch <- prometheus.MustNewConstMetric(clusterNames, prometheus.GaugeValue, float64(cs.Names))
		ch <- prometheus.MustNewConstMetric(clusterRejected, prometheus.CounterValue, float64(cs.Rejected))
	}
	errs := 0
	for _, name := range n.Registered() {
		ex, ok := strings.CutPrefix(name, exchange.RegisteredName(""))
		if !ok {
			continue
		}
		if !c.exchange(ch, ex, actor.NamedPID(n.Address(), name)) {
			errs++
		}
	}
	errs += c.supervisors(ch)
	ch <- prometheus.MustNewConstMetric(scrapeErrors, prometheus.GaugeValue, float64(errs))
}

// exchange reports the local exchange ex, whatever its kind; false if it
// did not answer.
func (c *collector) exchange(ch chan<- prometheus.Metric, ex string, pid *actor.PID) bool {
	n := c.o.cfg.Node
	ctx, cancel := context.WithTimeout(context.Background(), c.o.cfg.ScrapeTimeout)
	defer cancel()
	pi, err := n.InspectProcess(ctx, pid)
	if err != nil {
		return false
	}
	at := exchange.At(n.Address(), ex)
	switch pi.State["kind"] {
	case exchange.Kind:
		info, err := exchange.Inspect(ctx, n, at)
		if err != nil {
			return false
		}
		ch <- prometheus.MustNewConstMetric(exRouted, prometheus.CounterValue, float64(info.Stats.Routed), ex)
		ch <- prometheus.MustNewConstMetric(exRejected, prometheus.CounterValue, float64(info.Stats.Rejected), ex)
		ch <- prometheus.MustNewConstMetric(exNoController, prometheus.CounterValue, float64(info.Stats.NoController), ex)
		ch <- prometheus.MustNewConstMetric(exControllers, prometheus.GaugeValue, float64(len(info.Members)), ex)
		for _, m := range exKeyCounters {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.get(&info.Stats.Keys)), ex)
		}
		ch <- prometheus.MustNewConstMetric(exKeys, prometheus.GaugeValue, float64(info.Stats.Keys.Keys), ex)
		ch <- prometheus.MustNewConstMetric(exKeyBytes, prometheus.GaugeValue, float64(info.Stats.Keys.Bytes), ex)
	case pubsub.Kind:
		s, err := pubsub.Inspect(ctx, n, at)
		if err != nil {
			return false
		}
		ch <- prometheus.MustNewConstMetric(psSubscriptions, prometheus.GaugeValue, float64(s.Subscriptions), ex)
		ch <- prometheus.MustNewConstMetric(psSubscribers, prometheus.GaugeValue, float64(s.Subscribers), ex)
		ch <- prometheus.MustNewConstMetric(psPublished, prometheus.CounterValue, float64(s.Published), ex)
		ch <- prometheus.MustNewConstMetric(psDelivered, prometheus.CounterValue, float64(s.Delivered), ex)
		ch <- prometheus.MustNewConstMetric(psRemote, prometheus.CounterValue, float64(s.Remote), ex)
		ch <- prometheus.MustNewConstMetric(psUnmatched, prometheus.CounterValue, float64(s.Unmatched), ex)
		ch <- prometheus.MustNewConstMetric(psRejected, prometheus.CounterValue, float64(s.Rejected), ex)
	case tasks.Kind:
		s, err := tasks.Inspect(ctx, n, at)
		if err != nil {
			return false
		}
		ch <- prometheus.MustNewConstMetric(tqReady, prometheus.GaugeValue, float64(s.Ready), ex)
		ch <- prometheus.MustNewConstMetric(tqInFlight, prometheus.GaugeValue, float64(s.InFlight), ex)
		ch <- prometheus.MustNewConstMetric(tqWorkers, prometheus.GaugeValue, float64(s.Workers), ex)
		ch <- prometheus.MustNewConstMetric(tqDeadPending, prometheus.GaugeValue, float64(s.DeadLetterPending), ex)
		for _, m := range tqCounters {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.get(&s)), ex)
		}
	}
	return true
}

// supervisors reports the restarts of every supervisor of the running
// applications and returns how many trees did not answer.
func (c *collector) supervisors(ch chan<- prometheus.Metric) int {
	if c.o.cfg.Apps == nil {
		return 0
	}
	apps := c.o.cfg.Apps.Running()
	ch <- prometheus.MustNewConstMetric(appsRunning, prometheus.GaugeValue, float64(len(apps)))
	errs := 0
	for _, a := range apps {
		ctx, cancel := context.WithTimeout(context.Background(), c.o.cfg.ScrapeTimeout)
		t, err := inspect.SupervisionTree(ctx, c.o.cfg.Node, a.Supervisor)
		cancel()
		if err != nil {
			errs++
			continue
		}
		var walk func(t *inspect.Tree, path string)
		walk = func(t *inspect.Tree, path string) {
			ch <- prometheus.MustNewConstMetric(supRestarts, prometheus.CounterValue, float64(t.SupRestarts), a.Name, path)
			for i := range t.Children {
				if sub := &t.Children[i]; sub.Type == supervisor.TypeSupervisor && sub.PID != nil {
					walk(sub, path+"/"+sub.ID)
				}
			}
		}
		walk(&t, a.Name)
	}
	return errs
}
