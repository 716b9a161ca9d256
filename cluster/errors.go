package cluster

import (
	"errors"

	"github.com/switchboard-go/switchboard/actor"
)

// Errors of membership and the directory; test with errors.Is.
var (
	// ErrJoined: the node already joined a cluster.
	ErrJoined = errors.New("cluster: node already joined")
	// ErrNotFound: no live node publishes the name.
	ErrNotFound = errors.New("cluster: name not found")
	// ErrInvalidName: a node or directory name is empty, too long, or has
	// '/' or characters that are not printable ASCII.
	ErrInvalidName = errors.New("cluster: invalid name")
	// ErrLeft: the cluster was left.
	ErrLeft = errors.New("cluster: left")
	// ErrUnavailable: the provider's store (Consul) could not be reached.
	ErrUnavailable = errors.New("cluster: provider unavailable")
	// ErrConfig: a provider's configuration is invalid.
	ErrConfig = errors.New("cluster: invalid configuration")
)

func errorsIsNoProcess(err error) bool { return errors.Is(err, actor.ErrNoProcess) }
