// Package fuzzseed gives fuzz targets their seeds from testdata and fails
// a target that has none, so that a lost or renamed folder cannot quietly
// turn it into a no-op during go test.
package fuzzseed

import (
	"os"
	"path/filepath"
	"testing"
)

// Require fails f unless its seed corpus, testdata/fuzz/<target name>,
// holds at least one file. go test reads that corpus by itself.
func Require(f *testing.F) {
	f.Helper()
	dir := filepath.Join("testdata", "fuzz", f.Name())
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("failed to read the seed corpus: %v", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			return
		}
	}
	f.Fatalf("the seed corpus %s is empty", dir)
}

// Files returns the contents of the files matching testdata/<glob>, to
// add as seeds; it fails f when none match or one cannot be read.
func Files(f *testing.F, glob string) [][]byte {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds match testdata/%s (%v)", glob, err)
	}
	var seeds [][]byte
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}
