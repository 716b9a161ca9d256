package release

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// decoder reads one release file: tables and values of the TOML document
// as Primitives, so that every key is checked by this package and every
// error carries the key's line (the parser knows it; a probe asks it).
type decoder struct {
	file   string
	md     toml.MetaData
	lookup func(string) (string, bool)
	vars   map[string]string // environment variable -> key path, to find collisions
}

// probe is decoded from a Primitive: its UnmarshalTOML sees the raw value,
// and an error it returns comes back as a toml.ParseError with the line.
type probe struct{ fn func(any) error }

func (p *probe) UnmarshalTOML(v any) error { return p.fn(v) }

// inspect runs fn on the value of p and returns its error placed at p's
// key and line.
func (d *decoder) inspect(path string, p toml.Primitive, fn func(any) error) error {
	var got error
	err := d.md.PrimitiveDecode(p, &probe{func(v any) error {
		got = fn(v)
		return got
	}})
	if got == nil {
		if err != nil { // the decoder failed before calling fn
			return &Error{File: d.file, Key: path, Err: ErrSyntax, Detail: err.Error()}
		}
		return nil
	}
	var pe toml.ParseError
	line := 0
	if errors.As(err, &pe) {
		line = pe.Position.Line
	}
	return keyErr(d.file, line, path, got)
}

// line is the line of p's key, 0 if unknown. A table the file never
// names itself (only [a.b] names a) is at the first line of its keys.
func (d *decoder) line(p toml.Primitive) int {
	var e *Error
	if errors.As(d.inspect("", p, func(any) error { return errMark }), &e) && e.Line > 0 {
		return e.Line
	}
	var t map[string]toml.Primitive
	if d.md.PrimitiveDecode(p, &t) != nil {
		return 0
	}
	first := 0
	for _, c := range t {
		if l := d.line(c); l > 0 && (first == 0 || l < first) {
			first = l
		}
	}
	return first
}

var errMark = errors.New("mark")

// table decodes p as a table of primitives.
func (d *decoder) table(path string, p toml.Primitive) (map[string]toml.Primitive, error) {
	if err := d.inspect(path, p, func(v any) error {
		if _, ok := v.(map[string]any); !ok {
			return bad(ErrWrongType, "want a table, got %s", typeName(v))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var t map[string]toml.Primitive
	if err := d.md.PrimitiveDecode(p, &t); err != nil {
		return nil, &Error{File: d.file, Line: d.line(p), Key: path, Err: ErrWrongType, Detail: err.Error()}
	}
	return t, nil
}

// value decodes p as a value of kind k.
func (d *decoder) value(path string, p toml.Primitive, k kind) (any, error) {
	var out any
	err := d.inspect(path, p, func(v any) error {
		var err error
		out, err = k.fromFile(v)
		return err
	})
	return out, err
}

// unknown is the error of a key that is not declared at path.
func (d *decoder) unknown(path string, p toml.Primitive, known []string) error {
	detail := "none is declared"
	if len(known) > 0 {
		detail = "known keys: " + strings.Join(known, ", ")
	}
	return &Error{File: d.file, Line: d.line(p), Key: path, Err: ErrUnknownKey, Detail: detail}
}

// settings reads the keys of a table: each must be one of specs (or of
// skip, which the caller reads), is converted to its type, and is then
// overridden by the environment variable envPrefix+NAME if set (no
// override when envPrefix is empty). Keys the table leaves out have their
// default.
func (d *decoder) settings(path string, t map[string]toml.Primitive, specs []keySpec, envPrefix string, skip ...string) (map[string]any, error) {
	vals := make(map[string]any, len(specs))
	for _, s := range specs {
		vals[s.name] = s.def
	}
	for _, name := range d.inFileOrder(t) {
		if slices.Contains(skip, name) {
			continue
		}
		i := slices.IndexFunc(specs, func(s keySpec) bool { return s.name == name })
		if i < 0 {
			known := make([]string, 0, len(specs)+len(skip))
			for _, s := range specs {
				known = append(known, s.name)
			}
			return nil, d.unknown(join(path, name), t[name], append(known, skip...))
		}
		v, err := d.value(join(path, name), t[name], specs[i].kind)
		if err != nil {
			return nil, err
		}
		vals[name] = v
	}
	if envPrefix == "" {
		return vals, nil
	}
	for _, s := range specs {
		key := join(path, s.name)
		name := envName(envPrefix, s.name)
		if other, ok := d.vars[name]; ok {
			return nil, &Error{File: d.file, Key: key, Var: name, Err: ErrBadApp, Detail: "the environment variable also names " + other + "; rename one"}
		}
		d.vars[name] = key
		raw, ok := d.lookup(name)
		if !ok {
			continue
		}
		v, err := s.kind.fromString(raw)
		if err != nil {
			e := keyErr("environment", 0, key, err)
			e.Var = name
			return nil, e
		}
		vals[s.name] = v
	}
	return vals, nil
}

// inFileOrder lists the keys of t by line, so the first error reported is
// the first in the file.
func (d *decoder) inFileOrder(t map[string]toml.Primitive) []string {
	names := slices.Sorted(maps.Keys(t))
	lines := make(map[string]int, len(names))
	for _, n := range names {
		lines[n] = d.line(t[n])
	}
	slices.SortStableFunc(names, func(a, b string) int { return lines[a] - lines[b] })
	return names
}

func join(path, name string) string {
	if path == "" || name == "" {
		return path + name
	}
	return path + "." + name
}

// envName is the environment variable of a key: prefix and key name in
// upper case, with every character other than a letter or a digit made
// '_'.
func envName(prefix, key string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, c := range strings.ToUpper(key) {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// EnvVar is the environment variable that overrides the key of app:
// SWITCHBOARD_<APP>_<KEY>, upper case, with every character other than a
// letter or a digit made '_' (SWITCHBOARD_USERS_CORE_MAX_CONNS for key
// max-conns of app users.core). The node's keys are SWITCHBOARD_NODE_<KEY>.
func EnvVar(app, key string) string { return envName(envName("SWITCHBOARD_", app)+"_", key) }

// syntaxErr turns an error of the TOML parser into a *Error: ErrSyntax,
// or ErrDuplicateApp / ErrBadExchange for a table declared twice.
func syntaxErr(file string, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: file, Err: ErrSyntax, Detail: err.Error()}
	}
	e := &Error{File: file, Line: pe.Position.Line, Key: pe.LastKey, Err: ErrSyntax, Detail: pe.Message}
	// The parser's words for a table or key defined twice, as in
	// "Key 'apps.users' has already been defined." (checked by
	// TestDuplicateApp, so that a new parser version cannot change them
	// unseen).
	if key, ok := strings.CutSuffix(pe.Message, "' has already been defined."); ok {
		if key, ok := strings.CutPrefix(key, "Key '"); ok {
			switch {
			case strings.HasPrefix(key, "apps.") && strings.Count(key, ".") == 1:
				e.Err, e.Key, e.Detail = ErrDuplicateApp, key, "declared twice"
			case strings.HasPrefix(key, "exchanges.") && strings.Count(key, ".") == 1:
				e.Err, e.Key, e.Detail = ErrBadExchange, key, "declared twice"
			}
		}
	}
	return e
}
