// Package assets holds the files browsers load from the relay, or from the
// hotline where it hosts the frame itself: the loader partners paste at a
// stable URL, and the module, its runtime, the frame's style sheet, boot
// script and message catalogues under content-hashed, immutable names,
// each kept in memory with its gzip and brotli forms. It imports nothing
// of the relay or the hotline's software, so both can use it.
package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/tdewolff/minify/v2"
	jsmin "github.com/tdewolff/minify/v2/js"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/snippet"
)

// asset is one static file, kept in memory with its precompressed forms.
type asset struct {
	ctype    string
	etag     string
	raw      []byte
	gz, br   []byte
	cacheCtl string
}

// Set is the files the relay serves to browsers: the loader at a stable
// URL, everything else under a content-hashed, immutable name.
type Set struct {
	embedJS   *asset
	loaderSRI string            // the integrity value of the loader's bytes
	hashed    map[string]*asset // "/a/widget.3f2a91c077de.wasm" → asset
	names     map[string]string // "widget.wasm" → "/a/widget.3f2a91c077de.wasm"
}

// builtAssets are the files `make build` puts in the assets folder.
var builtAssets = []string{"widget.wasm", "wasm_exec.js"}

// CheckBuilt reports whether dir holds the files `make build` puts in
// the assets folder, without reading them.
func CheckBuilt(dir string) error {
	for _, name := range builtAssets {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: %w (run `make build` to make them)", name, err)
		}
	}
	return nil
}

// Load reads the built module and wasm_exec.js from dir and the loader,
// style sheet and boot script from the snippet package, and
// precompresses them.
func Load(dir string) (*Set, error) {
	a := &Set{hashed: map[string]*asset{}, names: map[string]string{}}
	for _, name := range builtAssets {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("failed to load assets: %w (run `make build` to make them)", err)
		}
		a.addHashed(name, b, ReadPrecompressed(dir, name, b))
	}
	for _, name := range []string{"frame.css", "boot.js"} {
		b, err := fs.ReadFile(snippet.Files, name)
		if err != nil {
			return nil, fmt.Errorf("failed to load assets: %w", err)
		}
		a.addHashed(name, b, nil)
	}
	js, err := fs.ReadFile(snippet.Files, "embed.js")
	if err != nil {
		return nil, fmt.Errorf("failed to load assets: %w", err)
	}
	if js, err = withLabels(js); err != nil {
		return nil, fmt.Errorf("failed to load assets: %w", err)
	}
	// The loader's URL is what partners paste, so it cannot be hashed; a
	// short cache lets a fix reach every partner page within minutes.
	// The same bytes under a hashed path never change, for a partner who
	// pins them with integrity= (PinnedLoader).
	if js, err = minifyJS(js); err != nil {
		return nil, fmt.Errorf("failed to load assets: %w", err)
	}
	a.embedJS = newAsset("embed.js", js, "public, max-age=300", nil)
	a.addHashed("embed.js", js, nil)
	sum := sha512.Sum384(js)
	a.loaderSRI = "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
	for _, loc := range report.Locales() {
		cat, err := report.LoadCatalog(loc)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(cat)
		a.addHashed("messages-"+loc+".json", b, nil)
	}
	return a, nil
}

// PinnedLoader returns the hashed, immutable URL path of the loader
// ("/a/embed.3f2a91c077de.js") and the Subresource Integrity value of its
// bytes ("sha384-…"), for a snippet that pins it.
func (a *Set) PinnedLoader() (path, integrity string) { return a.names["embed.js"], a.loaderSRI }

// Loader returns the handler of the loader, embed.js.
func (a *Set) Loader() http.Handler { return a.embedJS }

// File returns the handler of the file served under the hashed URL path
// urlPath ("/a/widget.3f2a91c077de.wasm"), if there is one.
func (a *Set) File(urlPath string) (http.Handler, bool) {
	f, ok := a.hashed[urlPath]
	return f, ok
}

func (a *Set) addHashed(name string, b []byte, pre *Compressed) {
	p := HashedPath(name, b)
	a.names[name] = p
	a.hashed[p] = newAsset(name, b, Immutable, pre)
}

// Immutable is the Cache-Control of an asset under its hashed path.
const Immutable = "public, max-age=31536000, immutable"

// HashedPath is the URL path the relay serves a built file under: its
// name with part of its SHA-256, so a new build is a new URL and the old
// one can be cached for good.
func HashedPath(name string, b []byte) string {
	sum := sha256.Sum256(b)
	ext := path.Ext(name)
	return "/a/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
}

// StaticFile returns a handler that serves b exactly as the relay serves
// its assets: the type from name's extension, cacheCtl, an ETag, and
// brotli or gzip as the client accepts (pre, or compressed now if nil).
func StaticFile(name string, b []byte, cacheCtl string, pre *Compressed) http.Handler {
	return newAsset(name, b, cacheCtl, pre)
}

// ServeHTTP serves the asset; see serve.
func (s *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r) }

func newAsset(name string, b []byte, cacheCtl string, pre *Compressed) *asset {
	sum := sha256.Sum256(b)
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".wasm":
		ctype = "application/wasm"
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".json":
		ctype = "application/json"
	}
	if pre == nil {
		pre = Compress(b, len(b) < 256<<10)
	}
	return &asset{
		ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		raw: b, gz: pre.Gzip, br: pre.Brotli, cacheCtl: cacheCtl,
	}
}

// Compressed are the gzip and brotli forms of a file.
type Compressed struct{ Gzip, Brotli []byte }

// Compress makes both forms as the relay serves them, at the best ratio
// if best. Brotli's best level takes seconds for the module, so `make
// build` does it once (Precompress) and the relay reads the result;
// without it the relay starts at once with a quicker, slightly larger
// compression.
func Compress(b []byte, best bool) *Compressed {
	level := 5
	if best {
		level = brotli.BestCompression
	}
	var gz, br bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: level, LGWin: window(len(b))})
	bw.Write(b)
	bw.Close()
	return &Compressed{Gzip: gz.Bytes(), Brotli: br.Bytes()}
}

// window is the base 2 logarithm of the brotli window for n bytes: the
// smallest that holds them (brotli's window is 16 bytes short of its power
// of two), within brotli's 10 and its default of 22. The compressor's
// memory grows with its window: at the best level, a small file
// compressed with the default window of 4 MiB took 44 MB, and the relay
// kept 80 MB after its start; a window larger than the file makes the
// output no smaller. Files of 4 MiB and more keep the default, with which
// the form's module compresses best.
func window(n int) int {
	return min(max(bits.Len(uint(n+15)), 10), 22)
}

// Precompress writes NAME.gz and NAME.br beside each built asset in dir.
func Precompress(dir string) error {
	for _, name := range builtAssets {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("failed to precompress: %w", err)
		}
		if ReadPrecompressed(dir, name, b) != nil {
			continue // still current: a rebuild that changed nothing costs nothing
		}
		c := Compress(b, true)
		if err := os.WriteFile(filepath.Join(dir, name+".gz"), c.Gzip, 0o644); err != nil {
			return fmt.Errorf("failed to precompress: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".br"), c.Brotli, 0o644); err != nil {
			return fmt.Errorf("failed to precompress: %w", err)
		}
	}
	return nil
}

// ReadPrecompressed returns the forms Precompress wrote for name, if both
// exist and decode to exactly b; a stale or damaged file is never served.
func ReadPrecompressed(dir, name string, b []byte) *Compressed {
	gz, err1 := os.ReadFile(filepath.Join(dir, name+".gz"))
	br, err2 := os.ReadFile(filepath.Join(dir, name+".br"))
	if err1 != nil || err2 != nil {
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil
	}
	if plain, err := io.ReadAll(io.LimitReader(zr, int64(len(b))+1)); err != nil || !bytes.Equal(plain, b) {
		return nil
	}
	if plain, err := io.ReadAll(io.LimitReader(brotli.NewReader(bytes.NewReader(br)), int64(len(b))+1)); err != nil || !bytes.Equal(plain, b) {
		return nil
	}
	return &Compressed{Gzip: gz, Brotli: br}
}

// NoneMatch reports whether an If-None-Match header value names etag (a
// quoted entity tag), or is "*", which names any (RFC 9110, section
// 13.1.2). The comparison is weak, as the header asks: a W/ prefix is
// passed over. Tags are compared whole, never as part of another.
func NoneMatch(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// Path returns the hashed URL path of a named asset ("widget.wasm").
func (a *Set) Path(name string) string { return a.names[name] }

// serve writes the asset in the best encoding the client accepts.
func (s *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", s.ctype)
	h.Set("Cache-Control", s.cacheCtl)
	h.Set("ETag", s.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if NoneMatch(strings.Join(r.Header.Values("If-None-Match"), ","), s.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := s.raw
	switch accepts := r.Header.Get("Accept-Encoding"); {
	case AcceptsEncoding(accepts, "br"):
		h.Set("Content-Encoding", "br")
		body = s.br
	case AcceptsEncoding(accepts, "gzip"):
		h.Set("Content-Encoding", "gzip")
		body = s.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// AcceptsEncoding reports whether an Accept-Encoding header accepts enc:
// it names enc with no weight, or with a weight above zero (RFC 9110,
// section 12.5.3). A weight that does not parse refuses it.
func AcceptsEncoding(header, enc string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		for param := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(param, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

// labelsLine is the loader's table of button labels as written in
// embed.js; withLabels puts every catalogue's in its place.
const labelsLine = `var labels = { en: "Report child sexual abuse" };`

// withLabels fills the loader's table of button labels with every
// catalogue's form title, keyed by its locale in lower case, so that the
// button speaks the language the form will open in.
func withLabels(js []byte) ([]byte, error) {
	if n := bytes.Count(js, []byte(labelsLine)); n != 1 {
		return nil, fmt.Errorf("embed.js holds %d label tables, want one: %s", n, labelsLine)
	}
	labels := map[string]string{}
	for _, loc := range report.Locales() {
		cat, err := report.LoadCatalog(loc)
		if err != nil {
			return nil, err
		}
		labels[strings.ToLower(loc)] = cat.T("form.title")
	}
	b, err := json.Marshal(labels)
	if err != nil {
		return nil, err
	}
	return bytes.Replace(js, []byte(labelsLine), []byte("var labels = "+string(b)+";"), 1), nil
}

// minifyJS shrinks the loader, which every partner page downloads, with
// a JavaScript parser: it drops comments and spaces and gives local names
// one letter, so the source stays the readable, reviewed file. A loader
// the parser cannot read is an error, not a file served half-done.
func minifyJS(src []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := (&jsmin.Minifier{}).Minify(minify.New(), &out, bytes.NewReader(src), nil); err != nil {
		return nil, fmt.Errorf("minify embed.js: %w", err)
	}
	return out.Bytes(), nil
}
