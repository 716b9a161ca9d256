package release_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-go/switchboard/release"
)

// FuzzParse: any file is a release or a *release.Error wrapping one of the
// sentinels; nothing panics. The seed corpus is testdata/*.toml.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(webFile))
	sentinels := []error{release.ErrMissingFile, release.ErrSyntax, release.ErrUnknownApp, release.ErrDuplicateApp,
		release.ErrUnknownKey, release.ErrWrongType, release.ErrBadValue, release.ErrBadExchange, release.ErrBadApp}
	apps := testApps()
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := release.Parse("f.toml", data, apps, env(map[string]string{"SWITCHBOARD_WEB_PORT": "1"}))
		if err == nil {
			if r.Node.Name == "" {
				t.Fatal("a release without a node name")
			}
			return
		}
		var re *release.Error
		if !errors.As(err, &re) {
			t.Fatalf("%T %v", err, err)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("no sentinel: %v", err)
	})
}
