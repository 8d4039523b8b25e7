package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// verifyCopy checks that the module copied into dir is, byte for byte,
// the version go.sum names: its "h1:" hash, computed over the copy as the
// go command computes it (golang.org/x/mod/sumdb/dirhash.Hash1), must be
// the one go.sum holds for path and version. A module cache that was
// changed, by accident or on purpose, then stops the build before a patch
// is applied to code nobody reviewed.
func verifyCopy(dir, path, version string, gosum []byte) error {
	want, err := sumOf(gosum, path, version)
	if err != nil {
		return err
	}
	got, err := hashDir(dir, path+"@"+version)
	if err != nil {
		return fmt.Errorf("failed to hash %s@%s: %w", path, version, err)
	}
	if got != want {
		return fmt.Errorf("%s@%s in the module cache is not what go.sum names (its hash is %s, go.sum says %s): "+
			"run `go clean -modcache` and build again", path, version, got, want)
	}
	return nil
}

// sumOf returns go.sum's hash of the module's files (not of its go.mod).
func sumOf(gosum []byte, path, version string) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(gosum))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == path && f[1] == version && strings.HasPrefix(f[2], "h1:") {
			return f[2], nil
		}
	}
	return "", fmt.Errorf("go.sum has no hash for %s %s: run `go mod tidy`", path, version)
}

// hashDir is dirhash.HashDir(dir, prefix, dirhash.Hash1): the SHA-256 of
// a list, sorted by name, of one line per file, "hex SHA-256 of the
// file, two spaces, prefix/name, newline"; written "h1:" and base64.
func hashDir(dir, prefix string) (string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(filepath.Join(prefix, rel)))
		return nil
	})
	if err != nil {
		return "", err
	}
	slices.Sort(names)
	sum := sha256.New()
	for _, name := range names {
		if strings.Contains(name, "\n") {
			return "", fmt.Errorf("a file name with a newline: %q", name)
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(name, prefix+"/"))))
		if err != nil {
			return "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(sum, "%x  %s\n", h.Sum(nil), name)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(sum.Sum(nil)), nil
}
