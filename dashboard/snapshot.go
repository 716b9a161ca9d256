package dashboard

import "time"

// Snapshot is what the page shows at one time, as the node serving it
// saw the cluster; it is the JSON of api/snapshot and of each event.
type Snapshot struct {
	Time      time.Time      `json:"time"`
	Observer  string         `json:"observer"` // the node serving the dashboard
	Interval  float64        `json:"intervalSeconds"`
	Nodes     []NodeView     `json:"nodes"`
	Exchanges []ExchangeView `json:"exchanges"`
	PubSub    []PubSubView   `json:"pubsub"`
	Queues    []QueueView    `json:"queues"`
	Errors    []string       `json:"errors,omitempty"`
}

// NodeView is a node: up (its inspector answered this time) or down
// (it did not, or it left the cluster) since LastSeen.
type NodeView struct {
	Name       string            `json:"name"`
	Address    string            `json:"address"`
	Up         bool              `json:"up"`
	Error      string            `json:"error,omitempty"` // why it is down
	LastSeen   time.Time         `json:"lastSeen"`
	Started    time.Time         `json:"started"`
	Processes  int               `json:"processes"`
	RTT        float64           `json:"rttSeconds"` // of the inspection call
	Links      []string          `json:"links"`      // the members it sees, itself left out
	Apps       []AppView         `json:"apps"`
	DistApps   []DistAppView     `json:"distributed,omitempty"`
	Registered int               `json:"registered"`
	Counters   map[string]uint64 `json:"counters,omitempty"`
}

// AppView is an application running on a node, with its supervision
// tree.
type AppView struct {
	Name    string   `json:"name"`
	Restart string   `json:"restart"`
	Tree    TreeView `json:"tree"`
}

// TreeView is a supervisor or worker in a supervision tree.
type TreeView struct {
	ID       string     `json:"id"`
	Type     string     `json:"type"` // worker, supervisor
	PID      string     `json:"pid,omitempty"`
	Restart  string     `json:"restart,omitempty"`
	Restarts uint64     `json:"restarts"`           // of this child, by its supervisor
	Strategy string     `json:"strategy,omitempty"` // of a supervisor
	Children []TreeView `json:"children,omitempty"`
}

// DistAppView is a distributed application as a node sees it.
type DistAppView struct {
	Name      string   `json:"name"`
	Phase     string   `json:"phase"`
	RunningOn string   `json:"runningOn"`
	Standbys  []string `json:"standbys"`
}

// ExchangeView is a request-response exchange on a node.
type ExchangeView struct {
	Name         string           `json:"name"`
	Node         string           `json:"node"`
	Strategy     string           `json:"strategy"`
	Leader       string           `json:"leader,omitempty"` // the leader controller's node
	LeaderPID    string           `json:"leaderPid,omitempty"`
	Controllers  []ControllerView `json:"controllers"`
	Routed       uint64           `json:"routed"`
	Rejected     uint64           `json:"rejected"`
	NoController uint64           `json:"noController"`
	RoutedRate   float64          `json:"routedPerSecond"`
	ErrorRate    float64          `json:"errorsPerSecond"` // rejected and no controller
	RTT          float64          `json:"rttSeconds"`
	Error        string           `json:"error,omitempty"`
}

// ControllerView is a controller connected to an exchange.
type ControllerView struct {
	PID        string `json:"pid"`
	Node       string `json:"node"`
	ServiceTag string `json:"serviceTag,omitempty"`
	Leader     bool   `json:"leader"`
}

// PubSubView is a pub-sub exchange (or proxy) on a node.
type PubSubView struct {
	Name          string  `json:"name"`
	Node          string  `json:"node"`
	Subscriptions uint64  `json:"subscriptions"`
	Subscribers   uint64  `json:"subscribers"`
	Published     uint64  `json:"published"`
	Delivered     uint64  `json:"delivered"`
	PublishRate   float64 `json:"publishedPerSecond"`
	DeliverRate   float64 `json:"deliveredPerSecond"`
	Upstream      string  `json:"upstream,omitempty"`
	Connected     bool    `json:"connected"` // a proxy connected to its upstream
	Error         string  `json:"error,omitempty"`
}

// QueueView is a task queue on a node.
type QueueView struct {
	Name         string  `json:"name"`
	Node         string  `json:"node"`
	Ready        int     `json:"ready"` // the depth
	InFlight     int     `json:"inFlight"`
	Workers      int     `json:"workers"`
	DeadPending  int     `json:"deadLetterPending"`
	Submitted    uint64  `json:"submitted"`
	Acked        uint64  `json:"acked"`
	DeadLettered uint64  `json:"deadLettered"`
	SubmitRate   float64 `json:"submittedPerSecond"`
	AckRate      float64 `json:"ackedPerSecond"`
	Error        string  `json:"error,omitempty"`
}
