package release_test

import (
	"os"
	"testing"

	"github.com/switchboard-go/switchboard/release"
)

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/full.toml")
	if err != nil {
		b.Fatal(err)
	}
	apps := testApps()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := release.Parse("full.toml", data, apps, nil); err != nil {
			b.Fatal(err)
		}
	}
}
