package release

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Value lists the types of configuration keys.
type Value interface {
	string | int | bool | float64 | time.Duration | []string
}

// Key is a configuration key of an application: its name in the release
// file, its type T, its default and a line of documentation. Declare keys
// once, as package variables, list them in App.Keys and read them with
// Get:
//
//	var Port = release.NewKey("port", 8080, "the port the service listens on")
//	...
//	port := Port.Get(env) // an int: the file's, the environment's or 8080
type Key[T Value] struct {
	name, doc string
	def       T
	kind      kind
}

// AnyKey is a Key of any type, as App.Keys lists them.
type AnyKey interface {
	// Name is the key's name in the release file.
	Name() string
	// Type is the key's type as the file format says it: string, int,
	// bool, float, duration or strings (a list of strings).
	Type() string
	// Doc is the key's line of documentation.
	Doc() string
	// Default is the key's default value, of the key's type.
	Default() any
	spec() keySpec
}

// NewKey declares a key of type T (inferred from def: an untyped 8080 is
// an int, 0.5 a float64, 5*time.Second a time.Duration).
func NewKey[T Value](name string, def T, doc string) Key[T] {
	var k kind
	switch any(def).(type) {
	case string:
		k = kString
	case int:
		k = kInt
	case bool:
		k = kBool
	case float64:
		k = kFloat
	case time.Duration:
		k = kDuration
	case []string:
		k = kStrings
	}
	return Key[T]{name: name, doc: doc, def: def, kind: k}
}

// Name is the key's name in the release file.
func (k Key[T]) Name() string { return k.name }

// Type is string, int, bool, float, duration or strings.
func (k Key[T]) Type() string { return k.kind.String() }

// Doc is the key's line of documentation.
func (k Key[T]) Doc() string { return k.doc }

// Default is the key's default, a T.
func (k Key[T]) Default() any { return k.def }

func (k Key[T]) spec() keySpec { return keySpec{name: k.name, kind: k.kind, def: k.def} }

// Get returns the key's value in env: the one the release file or the
// environment set, or else the key's default. A key that env's
// application does not declare has its default: the release file cannot
// set it (its loading fails with ErrUnknownKey).
func (k Key[T]) Get(env Env) T {
	v, ok := env.vals[k.name].(T)
	if !ok {
		v = k.def
	}
	if l, ok := any(v).([]string); ok { // the caller's own copy
		return any(slices.Clone(l)).(T)
	}
	return v
}

type keySpec struct {
	name string
	kind kind
	def  any
}

type kind int

const (
	kString kind = iota
	kInt
	kBool
	kFloat
	kDuration
	kStrings
	kNodes // a distributed application's node list: names, or lists of names of equal priority
)

var kindNames = [...]string{"string", "int", "bool", "float", "duration", "strings", "nodes"}

func (k kind) String() string { return kindNames[k] }

// fromFile checks and converts a value of the TOML decoder (string, int64,
// float64, bool, []any, map[string]any, time values) or of a Go caller
// (NewEnv) to the key's type. The error wraps ErrWrongType or ErrBadValue.
func (k kind) fromFile(v any) (any, error) {
	switch k {
	case kString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kInt:
		switch n := v.(type) {
		case int64:
			if n < math.MinInt || n > math.MaxInt {
				return nil, bad(ErrBadValue, "%d does not fit an int", n)
			}
			return int(n), nil
		case int:
			return n, nil
		}
	case kBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kFloat:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		}
	case kDuration:
		switch d := v.(type) {
		case string:
			return parseDuration(d)
		case time.Duration:
			return d, nil
		}
	case kStrings:
		switch l := v.(type) {
		case []string:
			return append([]string(nil), l...), nil
		case []any:
			out := make([]string, len(l))
			for i, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, bad(ErrWrongType, "want a list of strings, element %d is %s", i, typeName(e))
				}
				out[i] = s
			}
			return out, nil
		}
	case kNodes:
		if l, ok := v.([]any); ok {
			return nodeList(l)
		}
	}
	return nil, bad(ErrWrongType, "want %s, got %s", k.want(), typeName(v))
}

func nodeList(l []any) ([][]string, error) {
	out := make([][]string, 0, len(l))
	for _, e := range l {
		switch e := e.(type) {
		case string:
			out = append(out, []string{e})
		case []any:
			g, err := kStrings.fromFile(e)
			if err != nil {
				return nil, bad(ErrWrongType, "want %s", kNodes.want())
			}
			out = append(out, g.([]string))
		default:
			return nil, bad(ErrWrongType, "want %s, got an element %s", kNodes.want(), typeName(e))
		}
	}
	return out, nil
}

// fromString parses the value of an environment variable: an int, a bool
// (strconv.ParseBool), a float, a duration (time.ParseDuration), a
// comma-separated list of strings, or the string itself.
func (k kind) fromString(s string) (any, error) {
	switch k {
	case kString:
		return s, nil
	case kInt:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, bad(ErrWrongType, "want an int, got %q", s)
		}
		return n, nil
	case kBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, bad(ErrWrongType, "want a bool (true or false), got %q", s)
		}
		return b, nil
	case kFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, bad(ErrWrongType, "want a float, got %q", s)
		}
		return f, nil
	case kDuration:
		return parseDuration(strings.TrimSpace(s))
	default: // kStrings
		if strings.TrimSpace(s) == "" {
			return []string{}, nil
		}
		out := strings.Split(s, ",")
		for i := range out {
			out[i] = strings.TrimSpace(out[i])
		}
		return out, nil
	}
}

func (k kind) want() string {
	switch k {
	case kInt:
		return "an integer"
	case kBool:
		return "a boolean"
	case kFloat:
		return "a number"
	case kDuration:
		return `a duration string such as "1.5s"`
	case kStrings:
		return "a list of strings"
	case kNodes:
		return `a list of node names or lists of names, as ["a@host", ["b@host", "c@host"]]`
	}
	return "a string"
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad(ErrBadValue, "bad duration %q (want a number and a unit: 300ms, 1.5s, 2m)", s)
	}
	return d, nil
}

// typeName names the TOML type of a decoded value.
func typeName(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("string %q", v)
	case int64, int:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return fmt.Sprintf("float %v", v)
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any, []map[string]any:
		return "array"
	case map[string]any:
		return "table"
	case time.Time:
		return "datetime"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%T", v)
}

// bad is an error of a value, whose file, line and key the caller fills
// in (keyErr).
func bad(sentinel error, format string, args ...any) *Error {
	return &Error{Err: sentinel, Detail: fmt.Sprintf(format, args...)}
}

// keyErr places err (a *Error of bad, or any other) at file:line, key.
func keyErr(file string, line int, key string, err error) *Error {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Err: ErrBadValue, Detail: err.Error()}
	}
	out := *e
	out.File, out.Line, out.Key = file, line, key
	return &out
}
