// Package scaffold writes a new umbrella project in the example's shape
// ("umbrella new"): a main.go that boots a node from a release file, one
// application under apps/greeter (a hub and a service, with their
// configuration keys), and a release file under releases/.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed template
var files embed.FS

// ErrExists: the target directory holds a file the scaffold would write.
var ErrExists = errors.New("scaffold: file exists")

// Write writes the project for module into dir (created if missing),
// refusing to overwrite a file. It returns the files written.
func Write(dir, module string) ([]string, error) {
	if module == "" || strings.ContainsAny(module, " \t\n\"\\") {
		return nil, fmt.Errorf("scaffold: bad module path %q", module)
	}
	data := struct{ Module, Name string }{module, path.Base(module)}
	out := map[string][]byte{} // target -> contents
	var order []string
	err := fs.WalkDir(files, "template", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		t, err := template.New(p).Parse(string(src))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(strings.TrimPrefix(p, "template/"), ".tmpl")))
		if _, err := os.Stat(target); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, target)
		}
		out[target] = b.Bytes()
		order = append(order, target)
		return nil
	})
	if err != nil {
		return nil, err // nothing written
	}
	var written []string
	for _, target := range order {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(target, out[target], 0o644); err != nil {
			return written, err
		}
		written = append(written, target)
	}
	return written, nil
}

// Main is the command "umbrella new -module PATH DIR"; it returns the
// exit code.
func Main(args []string) int {
	fs := flag.NewFlagSet("umbrella new", flag.ContinueOnError)
	module := fs.String("module", "", "the new module's path, as example.com/shop (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *module == "" || fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: umbrella new -module example.com/shop DIR")
		return 2
	}
	written, err := Write(fs.Arg(0), *module)
	for _, f := range written {
		fmt.Println("wrote", f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "umbrella new:", err)
		return 1
	}
	fmt.Printf("next: cd %s && go mod init %s && go get github.com/switchboard-go/switchboard@latest && go mod tidy && go run . releases/node.toml\n", fs.Arg(0), *module)
	return 0
}
