package osproc

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Config says what to start.
type Config struct {
	// Path is the executable; Args its arguments (without the name).
	Path string
	Args []string
	// Env is added to this process's environment.
	Env []string
	// Stderr receives the child's standard error; nil discards it. An
	// *os.File (a log) is handed to the child as it is.
	Stderr io.Writer
	// OwnGroup puts the child in a process group of its own: Signal
	// reaches the whole group, and a terminal's Ctrl-C does not reach it.
	OwnGroup bool
	// OnLine is called with each line the child writes to stdout, in
	// order, on one goroutine, and never after Exited is closed; nil
	// discards them. It must not block for long: the child waits while
	// its output is not read.
	OnLine func(line string)
}

// Proc is a running child.
type Proc struct {
	// Cmd is the started command (its Process, to signal it alone).
	Cmd *exec.Cmd

	group  bool
	stdin  io.Closer
	exited chan struct{}
}

// Start starts the child described by c.
func Start(c Config) (*Proc, error) {
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stderr = c.Stderr
	cmd.SysProcAttr = procAttr(c.OwnGroup)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, group: c.OwnGroup, stdin: stdin, exited: make(chan struct{})}
	go p.run(out, c.OnLine)
	return p, nil
}

// run reads the child's stdout to its end, then reaps the child: Wait
// closes the pipe, so it comes only once every line has been read.
func (p *Proc) run(out io.Reader, onLine func(string)) {
	s := bufio.NewScanner(out)
	s.Buffer(make([]byte, 0, 4096), 1<<20)
	for s.Scan() {
		if onLine != nil {
			onLine(s.Text())
		}
	}
	if s.Err() != nil { // a line over 1 MiB: discard the rest
		_, _ = io.Copy(io.Discard, out)
	}
	_ = p.Cmd.Wait()
	close(p.exited)
}

// Signal sends sig to the child, or to its whole group if it has its own.
func (p *Proc) Signal(sig syscall.Signal) {
	if p.group {
		_ = syscall.Kill(-p.Cmd.Process.Pid, sig)
		return
	}
	_ = p.Cmd.Process.Signal(sig)
}

// Kill sends SIGKILL (to the group, if the child has its own) and waits
// for the child's end.
func (p *Proc) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.exited
}

// CloseStdin asks the child to stop, without waiting.
func (p *Proc) CloseStdin() { _ = p.stdin.Close() }

// Stop asks the child to stop (SIGCONT first, in case it is paused, then
// its stdin closed) and kills it if it has not ended within d; it reports
// whether the child ended by itself.
func (p *Proc) Stop(d time.Duration) (clean bool) {
	p.Signal(syscall.SIGCONT)
	p.CloseStdin()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		p.Kill()
		return false
	}
}

// Exited is closed once the child has ended and its output been read.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Alive reports whether the child still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}
