package release

import (
	"fmt"
	"maps"
	"slices"
)

// Env is an application's environment (OTP's application:get_env): the
// values of the keys it declares, as the release file and the environment
// set them, over their defaults. Read it with Key.Get. The zero Env gives
// every key its default.
type Env struct {
	app  string
	vals map[string]any // name -> value of the key's type
}

// App is the application the environment belongs to.
func (e Env) App() string { return e.app }

// Lookup returns the value of the key name, of the key's type, and
// whether the application declares it.
func (e Env) Lookup(name string) (any, bool) {
	v, ok := e.vals[name]
	return v, ok
}

// Names lists the keys of the environment, sorted.
func (e Env) Names() []string { return slices.Sorted(maps.Keys(e.vals)) }

// NewEnv returns the environment of an application with the keys keys
// and the given settings over their defaults, checked as a release file's
// (a *Error naming the key, wrapping ErrUnknownKey, ErrWrongType or
// ErrBadValue): to test an application without a release file.
func NewEnv(app string, keys []AnyKey, settings map[string]any) (Env, error) {
	e, err := defaultEnv(app, keys)
	if err != nil {
		return Env{}, err
	}
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		k, ok := e.spec(keys, name)
		if !ok {
			return Env{}, &Error{File: "NewEnv", Key: name, Err: ErrUnknownKey, Detail: fmt.Sprintf("application %q declares %v", app, e.Names())}
		}
		v, err := k.kind.fromFile(settings[name])
		if err != nil {
			return Env{}, keyErr("NewEnv", 0, name, err)
		}
		e.vals[name] = v
	}
	return e, nil
}

func defaultEnv(app string, keys []AnyKey) (Env, error) {
	e := Env{app: app, vals: make(map[string]any, len(keys))}
	for _, k := range keys {
		s := k.spec()
		if s.name == "" || !validKeyName(s.name) {
			return Env{}, &Error{File: "App " + app, Key: s.name, Err: ErrBadApp, Detail: "key names are letters, digits, '_' and '-'"}
		}
		if _, dup := e.vals[s.name]; dup {
			return Env{}, &Error{File: "App " + app, Key: s.name, Err: ErrBadApp, Detail: "key declared twice"}
		}
		e.vals[s.name] = s.def
	}
	return e, nil
}

func (e Env) spec(keys []AnyKey, name string) (keySpec, bool) {
	for _, k := range keys {
		if s := k.spec(); s.name == name {
			return s, true
		}
	}
	return keySpec{}, false
}

func validKeyName(s string) bool {
	for _, c := range s {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
