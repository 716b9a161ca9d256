package docstest

// The convention for code blocks is in doc.go. TestDocBlocks type-checks
// every ```go block of README.md and docs/*.md; TestUserModule builds the
// whole-file blocks in a module of their own that requires this one, as a
// user's module would, and generates the messages guide's .proto there the
// way the guide says (when protoc is installed).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

const modulePath = "github.com/switchboard-go/switchboard"

// prelude maps the package names a fragment may use without importing them
// to their import paths.
var prelude = map[string]string{
	"context": "context",
	"bytes":   "bytes",
	"errors":  "errors",
	"fmt":     "fmt",
	"io":      "io",
	"log":     "log",
	"slog":    "log/slog",
	"os":      "os",
	"strings": "strings",
	"sync":    "sync",
	"time":    "time",

	"actor":      modulePath + "/actor",
	"supervisor": modulePath + "/supervisor",
	"exchange":   modulePath + "/exchange",
	"pubsub":     modulePath + "/exchange/pubsub",
	"tasks":      modulePath + "/exchange/tasks",
	"topic":      modulePath + "/exchange/topic",
	"patterns":   modulePath + "/patterns",
	"cluster":    modulePath + "/cluster",
	"distapp":    modulePath + "/distapp",
	"inspect":    modulePath + "/inspect",
	"ops":        modulePath + "/ops",
	"tracing":    modulePath + "/tracing",
	"dashboard":  modulePath + "/dashboard",
	"http":       "net/http",
	"release":    modulePath + "/release",

	"proto":       "google.golang.org/protobuf/proto",
	"anypb":       "google.golang.org/protobuf/types/known/anypb",
	"durationpb":  "google.golang.org/protobuf/types/known/durationpb",
	"emptypb":     "google.golang.org/protobuf/types/known/emptypb",
	"structpb":    "google.golang.org/protobuf/types/known/structpb",
	"timestamppb": "google.golang.org/protobuf/types/known/timestamppb",
	"wrapperspb":  "google.golang.org/protobuf/types/known/wrapperspb",
}

// ambient are the variables a fragment may use without declaring them.
var ambient = map[string]struct{ decl, pkg string }{
	"ctx":  {"var ctx context.Context", "context"},
	"node": {"var node *actor.Node", "actor"},
}

// fixturePath is the import path of the Go code generated from the .proto
// file of docs/messages.md; testdata/shoppb holds it.
const fixturePath = "example.com/shop/shoppb"

// A block is one fenced code block of a Markdown file.
type block struct {
	file string // relative to the module root
	line int    // the line of its first line of code
	lang string // the fence's info string
	src  string
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// docFiles are the Markdown files whose blocks are checked.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// blocks returns the fenced code blocks of the Markdown files, in order.
func blocks(t *testing.T, root string) []block {
	t.Helper()
	var out []block
	for _, rel := range docFiles(t, root) {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := extract(rel, data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bs...)
	}
	return out
}

// extract finds the fenced blocks of one Markdown file. A fence is a line
// of three backquotes, indented or not; the block's lines lose the fence's
// indentation.
func extract(rel string, data []byte) ([]block, error) {
	var out []block
	var cur *block
	var indent string
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " \t")
		if cur == nil {
			if strings.HasPrefix(trimmed, "```") {
				indent = line[:len(line)-len(trimmed)]
				cur = &block{file: rel, line: n + 1, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
				body.Reset()
			}
			continue
		}
		if strings.TrimSpace(line) == "```" {
			cur.src = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		body.WriteString(strings.TrimPrefix(line, indent))
		body.WriteByte('\n')
	}
	if cur != nil {
		return nil, fmt.Errorf("%s: unclosed code block", cur)
	}
	return out, sc.Err()
}

// kind says how a Go block is read (see doc.go).
type kind int

const (
	wholeFile kind = iota
	declarations
	statements
)

func (k kind) String() string { return [...]string{"whole file", "declarations", "statements"}[k] }

// prepared is a Go block made into a file to type-check.
type prepared struct {
	block
	kind kind
	file *ast.File
}

// lineDirective makes the positions of the next line on that of the block's
// first line of code, so that errors name the Markdown file and line.
func lineDirective(b block) string { return fmt.Sprintf("//line %s:%d\n", b.file, b.line) }

// prepare reads a Go block as a whole file, declarations or statements,
// and completes a fragment with the prelude's imports and the ambient
// variables it uses.
func prepare(fset *token.FileSet, b block) (*prepared, error) {
	if _, err := parser.ParseFile(token.NewFileSet(), "", b.src, parser.PackageClauseOnly); err == nil {
		f, err := parser.ParseFile(fset, "block.go", lineDirective(b)+b.src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		return &prepared{block: b, kind: wholeFile, file: f}, nil
	}
	k := declarations
	head, tail := "package docs\n", ""
	f, err := parser.ParseFile(token.NewFileSet(), "block.go", head+lineDirective(b)+b.src, 0)
	if err != nil {
		if looksDeclared(b.src) {
			return nil, fmt.Errorf("as declarations: %w", err)
		}
		k = statements
		head, tail = "package docs\n\nfunc _() {\n", "}\n"
		if f, err = parser.ParseFile(token.NewFileSet(), "block.go", head+lineDirective(b)+b.src+tail, 0); err != nil {
			return nil, fmt.Errorf("as statements: %w", err)
		}
	}
	// What the fragment uses and does not declare: prelude packages and
	// ambient variables (the others are the type-checker's to report).
	imports := map[string]bool{}
	var decls []string
	for _, id := range f.Unresolved {
		if a, ok := ambient[id.Name]; ok && !slices.Contains(decls, a.decl) {
			decls = append(decls, a.decl)
			imports[prelude[a.pkg]] = true
		}
	}
	for _, id := range f.Unresolved {
		if path, ok := prelude[id.Name]; ok {
			imports[path] = true
		}
	}
	var src strings.Builder
	src.WriteString("package docs\n\n")
	for _, path := range slices.Sorted(maps.Keys(imports)) {
		fmt.Fprintf(&src, "import %q\n", path)
	}
	slices.Sort(decls)
	for _, d := range decls {
		src.WriteString(d + "\n")
	}
	if k == statements {
		src.WriteString("\nfunc _() {\n")
	}
	src.WriteString(lineDirective(b) + b.src + tail)
	full, err := parser.ParseFile(fset, "block.go", src.String(), parser.ParseComments)
	if err != nil {
		return nil, err
	}
	return &prepared{block: b, kind: k, file: full}, nil
}

// looksDeclared reports whether a fragment's first line of code starts a
// top-level declaration that only a file can hold (a func with a name or a
// receiver, or an import), so that its syntax errors are reported as such.
func looksDeclared(src string) bool {
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		return strings.HasPrefix(line, "import ") || strings.HasPrefix(line, "import(") ||
			(strings.HasPrefix(line, "func ") && !strings.HasPrefix(line, "func("))
	}
	return false
}

// goCommand is the go command of the toolchain that built this test, so that
// the export data it makes is in the format go/importer reads: $GOROOT's, the
// one on $PATH, or the one this binary was built with, whichever has this
// binary's version.
func goCommand(t *testing.T) string {
	t.Helper()
	var candidates []string
	if root := os.Getenv("GOROOT"); root != "" {
		candidates = append(candidates, filepath.Join(root, "bin", "go"))
	}
	if path, err := exec.LookPath("go"); err == nil {
		candidates = append(candidates, path)
	}
	candidates = append(candidates, filepath.Join(runtime.GOROOT(), "bin", "go"))
	var seen []string
	for _, path := range candidates {
		if !fileExists(path) {
			continue
		}
		out, err := exec.Command(path, "env", "GOVERSION").Output()
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(out))
		if v == runtime.Version() {
			return path
		}
		seen = append(seen, path+" is "+v)
	}
	t.Fatalf("no go command of %s, the version that built this test (%s)", runtime.Version(), strings.Join(seen, "; "))
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// goEnv is the environment of the go commands the tests run: this Go
// toolchain, no workspace. The module proxy stays as the environment sets
// it: on a machine whose module cache was filled by building this module,
// a user's module still needs the go.mod files of modules that graph
// pruning let this module's build skip (github.com/stretchr/testify@v1.7.0,
// required by an unpruned dependency's go.mod, for one), and only the
// proxy has them; with a warm cache nothing is fetched.
func goEnv(extra ...string) []string {
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off")
	return append(env, extra...)
}

// run runs the go command (or another program) in dir and returns its
// output, failing the test with it if it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// exportImporter imports packages from the export data that go list
// -export made, and the fixtures from source.
type exportImporter struct {
	gc       types.Importer
	fixtures map[string]*types.Package
}

func (i *exportImporter) Import(path string) (*types.Package, error) {
	if p, ok := i.fixtures[path]; ok {
		return p, nil
	}
	return i.gc.Import(path)
}

// newImporter lists the export data of paths and their dependencies, built
// in the module's build cache, offline.
func newImporter(t *testing.T, fset *token.FileSet, root string, paths []string) *exportImporter {
	t.Helper()
	args := append([]string{"list", "-e", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}\t{{with .Error}}{{.Err}}{{end}}"}, paths...)
	out := run(t, root, goEnv("GOFLAGS=-mod=readonly"), goCommand(t), args...)
	exports := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) == 3 && f[2] != "" {
			t.Fatalf("go list %s: %s", f[0], f[2])
		}
		if len(f) >= 2 && f[1] != "" {
			exports[f[0]] = f[1]
		}
	}
	lookup := func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q (not a dependency of this module?)", path)
		}
		return os.Open(file)
	}
	return &exportImporter{gc: importer.ForCompiler(fset, "gc", lookup), fixtures: map[string]*types.Package{}}
}

// fixture type-checks the Go code generated from the messages guide's .proto
// file under the import path the guide gives it.
func fixture(t *testing.T, fset *token.FileSet, imp *exportImporter) {
	t.Helper()
	file := filepath.Join("testdata", "shoppb", "shop.pb.go")
	f, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: imp}
	pkg, err := conf.Check(fixturePath, fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	imp.fixtures[fixturePath] = pkg
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(data, []byte("module "+modulePath+"\n")) {
		t.Fatalf("%s is not the root of %s: %v", root, modulePath, err)
	}
	return root
}

// goBlocks prepares every ```go block of the documentation.
func goBlocks(t *testing.T, fset *token.FileSet, root string) []*prepared {
	t.Helper()
	var out []*prepared
	skipped, failed := 0, 0
	for _, b := range blocks(t, root) {
		switch b.lang {
		case "go":
		case "go-not-compiled":
			skipped++
			continue
		default:
			continue
		}
		p, err := prepare(fset, b)
		if err != nil {
			t.Errorf("%v (the block at %s)", err, b)
			failed++
			continue
		}
		out = append(out, p)
	}
	t.Logf("%d Go blocks, %d marked go-not-compiled", len(out)+failed+skipped, skipped)
	return out
}

// importsOf are the import paths of files, with the prelude's and those the
// fixture needs.
func importsOf(ps []*prepared) []string {
	set := map[string]bool{
		"google.golang.org/protobuf/reflect/protoreflect": true,
		"google.golang.org/protobuf/runtime/protoimpl":    true,
		"reflect": true, "sync": true,
	}
	for _, path := range prelude {
		set[path] = true
	}
	for _, p := range ps {
		for _, spec := range p.file.Imports {
			path := strings.Trim(spec.Path.Value, `"`)
			if path != fixturePath && path != "unsafe" {
				set[path] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// firstDiff returns the first line (from 0) where a and b differ, and it in
// each.
func firstDiff(a, b string) (int, string, string) {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return i, x, y
		}
	}
	return 0, "", ""
}

func TestDocBlocks(t *testing.T) {
	start := time.Now()
	root := moduleRoot(t)
	fset := token.NewFileSet()
	ps := goBlocks(t, fset, root)
	if len(ps) == 0 {
		t.Fatal("no Go block found: is the extraction broken?")
	}
	imp := newImporter(t, fset, root, importsOf(ps))
	fixture(t, fset, imp)
	counts := map[kind]int{}
	for i, p := range ps {
		counts[p.kind]++
		if formatted, err := format.Source([]byte(p.src)); err == nil && string(formatted) != p.src {
			n, have, want := firstDiff(p.src, string(formatted))
			t.Errorf("%s:%d: not formatted as gofmt does:\n\thave %q\n\twant %q", p.block.file, p.block.line+n, have, want)
		}
		conf := types.Config{
			Importer:  imp,
			GoVersion: "go1.26",
			Error: func(err error) {
				te, ok := err.(types.Error)
				if ok && te.Soft && p.kind != wholeFile {
					return // unused variables and imports: a fragment shows a step
				}
				if ok {
					t.Errorf("%s: %s (a %s block)", te.Fset.Position(te.Pos), te.Msg, p.kind)
					return
				}
				t.Errorf("%s: %v (a %s block)", p.block, err, p.kind)
			},
		}
		_, _ = conf.Check(fmt.Sprintf("example.com/docs/block%d", i), fset, []*ast.File{p.file}, nil)
	}
	t.Logf("checked %d whole files, %d declaration and %d statement fragments in %v",
		counts[wholeFile], counts[declarations], counts[statements], time.Since(start).Round(time.Millisecond))
}

// protoBlock is the ```proto block of docs/messages.md that declares the
// fixture's package.
func protoBlock(t *testing.T, root string) string {
	t.Helper()
	for _, b := range blocks(t, root) {
		if b.file == "docs/messages.md" && b.lang == "proto" && strings.Contains(b.src, `go_package = "`+fixturePath+`"`) {
			return b.src
		}
	}
	t.Fatalf("docs/messages.md has no proto block with go_package %q", fixturePath)
	return ""
}

// requiredVersion is the version of module mod that go.mod requires.
func requiredVersion(t *testing.T, root, mod string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == mod {
			return f[1]
		}
	}
	t.Fatalf("go.mod requires no %s", mod)
	return ""
}

// withoutVersions drops the versions of the tools from generated code's
// header: another protoc makes the same code.
func withoutVersions(src []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(src, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("// \tprotoc")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// TestUserModule does what README.md and docs/messages.md tell a user to
// do: a module of its own (example.com/shop, in a temporary directory)
// that requires this one, its messages generated from the guide's .proto
// with protoc-gen-go pinned as a tool and -I the directory of this module
// from go list -m (when protoc is installed; else the generated code is
// testdata/shoppb's), and every whole-file main package of the
// documentation built and run there. The module cache has what building
// this module fetched; the proxy gives the rest (see goEnv).
func TestUserModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	start := time.Now()
	root := moduleRoot(t)
	goTool := goCommand(t)
	dir := t.TempDir()
	env := goEnv("GOFLAGS=-mod=mod -buildvcs=false")
	gomod := fmt.Sprintf("module example.com/shop\n\ngo 1.26.7\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", modulePath, modulePath, root)
	write(t, filepath.Join(dir, "go.mod"), []byte(gomod))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), sum)

	fixture, err := os.ReadFile(filepath.Join("testdata", "shoppb", "shop.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "shoppb", "shop.proto"), []byte(protoBlock(t, root)))
	if protoc, err := exec.LookPath("protoc"); err != nil {
		t.Logf("no protoc: using testdata/shoppb as the generated code")
		write(t, filepath.Join(dir, "shoppb", "shop.pb.go"), fixture)
	} else {
		pb := "google.golang.org/protobuf"
		run(t, dir, env, goTool, "get", "-tool", pb+"/cmd/protoc-gen-go@"+requiredVersion(t, root, pb))
		plugin := strings.TrimSpace(run(t, dir, env, goTool, "tool", "-n", "protoc-gen-go"))
		sb := strings.TrimSpace(run(t, dir, env, goTool, "list", "-m", "-f", "{{.Dir}}", modulePath))
		if sb != root {
			t.Fatalf("go list -m -f {{.Dir}} %s = %q; want %q", modulePath, sb, root)
		}
		run(t, dir, env, protoc, "--plugin=protoc-gen-go="+plugin, "-I", ".", "-I", sb,
			"--go_out=.", "--go_opt=paths=source_relative", "shoppb/shop.proto")
		got, err := os.ReadFile(filepath.Join(dir, "shoppb", "shop.pb.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(withoutVersions(got), withoutVersions(fixture)) {
			t.Errorf("testdata/shoppb/shop.pb.go is not what docs/messages.md's .proto generates: copy it from\n%s", got)
		}
	}

	fset := token.NewFileSet()
	var mains []string
	for _, p := range goBlocks(t, fset, root) {
		if p.kind != wholeFile || p.file.Name.Name != "main" {
			continue
		}
		name := fmt.Sprintf("%s-%d", strings.TrimSuffix(filepath.Base(p.block.file), ".md"), p.line)
		// Errors name the Markdown file, by its absolute path here.
		at := p.block
		at.file = filepath.Join(root, at.file)
		write(t, filepath.Join(dir, "cmd", name, "main.go"), []byte(lineDirective(at)+p.src))
		mains = append(mains, name)
	}
	if len(mains) == 0 {
		t.Fatal("no whole-file main package in the documentation")
	}
	run(t, dir, env, goTool, "vet", "./...")
	// Without debug information the programs link in half the time.
	run(t, dir, env, goTool, "build", "-ldflags=-s -w", "-o", "bin/", "./cmd/...")
	for _, name := range mains {
		out := run(t, dir, env, filepath.Join(dir, "bin", name))
		t.Logf("%s: %s", name, strings.TrimSpace(out))
	}
	t.Logf("built and ran %d programs in %v", len(mains), time.Since(start).Round(time.Millisecond))
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
