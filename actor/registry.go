package actor

import (
	"fmt"
	"sync"
)

// registry maps names to the local processes that hold them (Erlang's
// register/whereis). A process holds at most one name; the name is released
// when the process exits.
type registry struct {
	mu sync.RWMutex
	m  map[string]*Process
}

func (r *registry) init() { r.m = map[string]*Process{} }

func (r *registry) claim(name string, p *Process) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if holder, ok := r.m[name]; ok {
		return fmt.Errorf("%w: %q is held by %s", ErrNameTaken, name, FormatPID(holder.pid))
	}
	r.m[name] = p
	return nil
}

// release frees name if p still holds it.
func (r *registry) release(name string, p *Process) {
	if name == "" {
		return
	}
	r.mu.Lock()
	if r.m[name] == p {
		delete(r.m, name)
	}
	r.mu.Unlock()
}

// Register gives the live local process pid the name.
func (n *Node) Register(name string, pid *PID) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrNameTaken)
	}
	p := n.local(pid)
	if p == nil {
		return ErrNoProcess
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return ErrNoProcess
	}
	if p.name != "" {
		return fmt.Errorf("%w: %q", ErrAlreadyNamed, p.name)
	}
	if err := n.names.claim(name, p); err != nil {
		return err
	}
	p.name = name
	return nil
}

// Unregister removes name; it reports whether the name was registered.
func (n *Node) Unregister(name string) bool {
	n.names.mu.Lock()
	p, ok := n.names.m[name]
	delete(n.names.m, name)
	n.names.mu.Unlock()
	if ok {
		p.mu.Lock()
		if p.name == name {
			p.name = ""
		}
		p.mu.Unlock()
	}
	return ok
}

// Whereis returns the PID registered under name, or nil.
func (n *Node) Whereis(name string) *PID {
	n.names.mu.RLock()
	defer n.names.mu.RUnlock()
	if p, ok := n.names.m[name]; ok {
		return p.pid
	}
	return nil
}

// Registered returns the registered names.
func (n *Node) Registered() []string {
	n.names.mu.RLock()
	defer n.names.mu.RUnlock()
	names := make([]string, 0, len(n.names.m))
	for name := range n.names.m {
		names = append(names, name)
	}
	return names
}
