package actor

// SpawnOption configures one Spawn.
type SpawnOption func(*spawnOptions)

type spawnOptions struct {
	name         string
	trapExit     bool
	mailboxLimit int32
	starter      *starter // a spawn request's, for spawnFor only
}

// WithName registers the new process under name before its Init runs; the
// spawn fails with ErrNameTaken when another process holds the name. The
// name is released when the process exits, so a restarted process can take
// it again.
func WithName(name string) SpawnOption {
	return func(o *spawnOptions) { o.name = name }
}

// WithTrapExit starts the process trapping exits, as if Init had called
// p.TrapExit(true).
func WithTrapExit() SpawnOption {
	return func(o *spawnOptions) { o.trapExit = true }
}
