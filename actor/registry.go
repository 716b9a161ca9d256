package actor

import (
	"fmt"
	"sync"
)

// registry maps names to the local processes that hold them (Erlang's
// register/whereis). A process holds at most one name; the name is released
// when the process exits. Lookups, on every message to a NamedPID, take no
// lock.
type registry struct {
	m sync.Map // name -> *Process
}

func (r *registry) init() {}

func (r *registry) claim(name string, p *Process) error {
	if holder, loaded := r.m.LoadOrStore(name, p); loaded {
		return fmt.Errorf("%w: %q is held by %s", ErrNameTaken, name, FormatPID(holder.(*Process).pid))
	}
	return nil
}

// release frees name if p still holds it.
func (r *registry) release(name string, p *Process) {
	if name != "" {
		r.m.CompareAndDelete(name, p)
	}
}

func (r *registry) lookup(name string) *Process {
	if v, ok := r.m.Load(name); ok {
		return v.(*Process)
	}
	return nil
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
	v, ok := n.names.m.LoadAndDelete(name)
	if ok {
		p := v.(*Process)
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
	if p := n.names.lookup(name); p != nil {
		return p.pid
	}
	return nil
}

// Registered returns the registered names.
func (n *Node) Registered() []string {
	var names []string
	n.names.m.Range(func(k, _ any) bool {
		names = append(names, k.(string))
		return true
	})
	return names
}
