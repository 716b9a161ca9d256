package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	code, out, errOut := cli(t, nil, "new", "-module", "example.com/shop", dir)
	if code != exitOK || !strings.Contains(out, "wrote") || !strings.Contains(out, "next: cd "+dir) {
		t.Fatalf("new: exit %d:\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil || !strings.Contains(string(b), "example.com/shop") {
		t.Fatalf("main.go: %v\n%s", err, b)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no module", []string{"new", dir}, exitUsage, "-module"},
		{"no dir", []string{"new", "-module", "example.com/shop"}, exitUsage, "DIR"},
		{"existing files", []string{"new", "-module", "example.com/shop", dir}, exitError, "exists"},
	} {
		code, _, errOut := cli(t, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("%s: exit %d (want %d): %s", c.name, code, c.code, errOut)
		}
	}
}
