package actor

// NewPID returns the PID of process id on the node at address.
func NewPID(address, id string) *PID { return &PID{Address: address, Id: id} }

// Equal reports whether p and o name the same process (two nil PIDs are
// equal).
func (p *PID) Equal(o *PID) bool {
	if p == nil || o == nil {
		return p == o
	}
	return p.Address == o.Address && p.Id == o.Id
}

// FormatPID renders a PID as <id@address> for logs and errors.
func FormatPID(pid *PID) string {
	if pid == nil {
		return "<nil>"
	}
	return "<" + pid.Id + "@" + pid.Address + ">"
}
