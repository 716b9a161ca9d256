package supervisor

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/switchboard-go/switchboard/actor"
)

// Strategy says which children a supervisor restarts when one exits.
type Strategy int

const (
	// OneForOne restarts only the child that exited.
	OneForOne Strategy = iota
	// OneForAll terminates all other children and restarts them all.
	OneForAll
	// RestForOne terminates the children started after the one that
	// exited and restarts it and them, in start order.
	RestForOne
	// SimpleOneForOne is OneForOne for many children started at run time
	// from one template (Spec.Children[0]) with StartChildWith.
	SimpleOneForOne
)

// String returns Erlang's name of the strategy.
func (s Strategy) String() string {
	switch s {
	case OneForOne:
		return "one_for_one"
	case OneForAll:
		return "one_for_all"
	case RestForOne:
		return "rest_for_one"
	case SimpleOneForOne:
		return "simple_one_for_one"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// Restart says when a child that exited is restarted.
type Restart int

const (
	// Permanent children are always restarted.
	Permanent Restart = iota
	// Transient children are restarted only after an abnormal exit (not
	// nil, not a shutdown).
	Transient
	// Temporary children are never restarted, and their spec is dropped
	// when they exit.
	Temporary
)

// String returns Erlang's name of the restart type.
func (r Restart) String() string {
	switch r {
	case Permanent:
		return "permanent"
	case Transient:
		return "transient"
	case Temporary:
		return "temporary"
	}
	return fmt.Sprintf("Restart(%d)", int(r))
}

// ChildType tells workers from supervisors.
type ChildType int

const (
	TypeWorker     ChildType = iota // a worker process
	TypeSupervisor                  // a supervisor: its default shutdown is Infinity
)

// Shutdown times with a special meaning in ChildSpec.Shutdown.
const (
	// BrutalKill kills the child at once (ErrKill), without Terminate.
	BrutalKill time.Duration = -1
	// Infinity waits for the child however long it takes: for supervisors.
	Infinity time.Duration = math.MaxInt64
	// DefaultWorkerShutdown is a worker's shutdown time when none is set.
	DefaultWorkerShutdown = 5 * time.Second
)

// StartFunc starts a child and returns its PID; it runs on the supervisor's
// goroutine. It should start the child linked to sup (sup.SpawnLink); the
// supervisor links to the PID in any case. args is nil, except for children
// of a SimpleOneForOne supervisor, where it is StartChildWith's argument.
// Returning (nil, nil) means "ignore": the child is not started and its spec
// is kept, as Erlang's ignore.
type StartFunc func(ctx context.Context, sup *actor.Process, args any) (*actor.PID, error)

// ChildSpec describes one child of a supervisor.
type ChildSpec struct {
	ID       string        // unique among the supervisor's children
	Start    StartFunc     // required
	Restart  Restart       // default Permanent
	Shutdown time.Duration // BrutalKill, a timeout, or Infinity; 0: 5 s for workers, Infinity for supervisors
	Type     ChildType     // default TypeWorker
}

// Validate reports what is wrong with the spec, wrapping ErrInvalidSpec.
func (c ChildSpec) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: child has no ID", ErrInvalidSpec)
	case c.Start == nil:
		return fmt.Errorf("%w: child %q has no Start", ErrInvalidSpec, c.ID)
	case c.Restart < Permanent || c.Restart > Temporary:
		return fmt.Errorf("%w: child %q: bad restart %d", ErrInvalidSpec, c.ID, c.Restart)
	case c.Shutdown < BrutalKill:
		return fmt.Errorf("%w: child %q: bad shutdown %v", ErrInvalidSpec, c.ID, c.Shutdown)
	case c.Type != TypeWorker && c.Type != TypeSupervisor:
		return fmt.Errorf("%w: child %q: bad type %d", ErrInvalidSpec, c.ID, c.Type)
	}
	return nil
}

func (c ChildSpec) shutdown() time.Duration {
	if c.Shutdown != 0 {
		return c.Shutdown
	}
	if c.Type == TypeSupervisor {
		return Infinity
	}
	return DefaultWorkerShutdown
}

// Spec describes a supervisor: its strategy, its restart intensity and its
// children, started in order and stopped in reverse order.
type Spec struct {
	Strategy Strategy
	// Intensity and Period: more than Intensity restarts within Period
	// terminate the supervisor with ErrMaxRestartIntensity. Both zero means
	// Erlang's default, 1 restart in 5 s; Intensity 0 with a Period means
	// no restart at all.
	Intensity int
	Period    time.Duration
	// Children are started in order. A SimpleOneForOne supervisor has
	// exactly one, the template, and starts no child by itself.
	Children []ChildSpec
}

// Validate reports what is wrong with the spec, wrapping ErrInvalidSpec.
func (s Spec) Validate() error {
	if s.Strategy < OneForOne || s.Strategy > SimpleOneForOne {
		return fmt.Errorf("%w: bad strategy %d", ErrInvalidSpec, s.Strategy)
	}
	if s.Intensity < 0 || s.Period < 0 {
		return fmt.Errorf("%w: negative intensity or period", ErrInvalidSpec)
	}
	if s.Strategy == SimpleOneForOne && len(s.Children) != 1 {
		return fmt.Errorf("%w: simple_one_for_one needs exactly one child template, got %d", ErrInvalidSpec, len(s.Children))
	}
	seen := map[string]bool{}
	for _, c := range s.Children {
		if err := c.Validate(); err != nil {
			return err
		}
		if seen[c.ID] {
			return fmt.Errorf("%w: duplicate child ID %q", ErrInvalidSpec, c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

func (s Spec) limits() (int, time.Duration) {
	if s.Intensity == 0 && s.Period == 0 {
		return 1, 5 * time.Second
	}
	return s.Intensity, s.Period
}

// Worker is the spec of a permanent worker that runs newServer() linked to
// the supervisor, with opts (a name, say). Change the fields of the result
// for another restart type or shutdown.
func Worker(id string, newServer func() actor.Server, opts ...actor.SpawnOption) ChildSpec {
	return ChildSpec{
		ID: id,
		Start: func(ctx context.Context, sup *actor.Process, _ any) (*actor.PID, error) {
			return sup.SpawnLink(ctx, newServer(), opts...)
		},
	}
}

// Supervisor is the spec of a permanent child supervisor running spec.
func Supervisor(id string, spec Spec, opts ...actor.SpawnOption) ChildSpec {
	return ChildSpec{
		ID:   id,
		Type: TypeSupervisor,
		Start: func(ctx context.Context, sup *actor.Process, _ any) (*actor.PID, error) {
			return StartLink(ctx, sup, spec, opts...)
		},
	}
}
