package release

import (
	"errors"
	"fmt"
	"strings"
)

// The errors of Load and Parse, each wrapped in an *Error that says where.
var (
	// ErrMissingFile: the release file, or its cookie file, cannot be read.
	ErrMissingFile = errors.New("release: missing file")
	// ErrSyntax: the file is not valid TOML.
	ErrSyntax = errors.New("release: syntax error")
	// ErrUnknownApp: the file names an application the program does not
	// offer (not in its Apps), or one depends on an application that is not
	// in the release.
	ErrUnknownApp = errors.New("release: unknown application")
	// ErrDuplicateApp: the file declares an application twice.
	ErrDuplicateApp = errors.New("release: duplicate application")
	// ErrUnknownKey: a key the application (or the node, or the exchange's
	// kind) does not declare.
	ErrUnknownKey = errors.New("release: unknown key")
	// ErrWrongType: a value of another type than its key's.
	ErrWrongType = errors.New("release: wrong type")
	// ErrBadValue: a value of the right type that is not valid for its
	// key: a duration time.ParseDuration refuses, an unknown restart type,
	// an empty node name.
	ErrBadValue = errors.New("release: bad value")
	// ErrBadExchange: an exchange declaration that cannot be started: no or
	// unknown kind, an unknown or code-only strategy, a spec its package
	// refuses, a name declared twice.
	ErrBadExchange = errors.New("release: bad exchange declaration")
	// ErrBadApp: an application the release cannot run as declared: a
	// plain application that depends on a distributed one, a dependency
	// cycle, a distributed application whose node list leaves this node
	// out, or an App of the registry without Start.
	ErrBadApp = errors.New("release: bad application")
)

// Error is an error of a release file or of an environment variable: where
// it is, and which of the sentinel errors above it is (errors.Is).
type Error struct {
	// File is the release file; Line the line of the key, where the TOML
	// parser gives it (0 if unknown).
	File string
	Line int
	// Key is the key's path in the file, as apps.users.env.port; Var is
	// the environment variable if the value came from one.
	Key, Var string
	// Err is one of the sentinel errors; Detail says more.
	Err    error
	Detail string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Var != "" {
		fmt.Fprintf(&b, "$%s (%s): ", e.Var, e.Key)
	} else if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "release: "))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }
