// Package publish writes the folder from which a hotline serves the report
// frame itself, on an origin it controls: the frame's page in every
// language, its style sheet, boot script, message catalogues, the Go
// runtime's wasm_exec.js, the module and the hotline's signed key
// statement. Any static web server can serve it (docs/deployment.md, "A
// frame the hotline hosts"); the relay then serves only the loader,
// challenges and the report API, and cannot change the code that seals a
// report nor the keys it seals to.
//
// Layout of the folder:
//
//	index.html           the page in the hotline's first language
//	LOCALE.html          the page in each language ("de.html", "pt-BR.html")
//	statement.txt        the key statement the pages carry, for checking
//	a/NAME.HASH.EXT      the module, wasm_exec.js, the style sheet, the boot
//	                     script and the catalogues, under content-hashed
//	                     names, each with NAME.HASH.EXT.br and .gz beside it
//
// The pages are the same for every partner site: the loader gives the
// site, the partner page's origin and its languages in the frame's address
// (?s=SITE&o=ORIGIN&l=LANGS&k=KEY), and the boot script picks the page of
// the language and puts the site into the relay's addresses.
package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/snippet"
	"github.com/reportline/reportline/statement"
	"github.com/reportline/reportline/web/assets"
	"github.com/reportline/reportline/web/frame"
)

// Options are what the hotline decides about the frame it publishes.
type Options struct {
	// Relay is the relay's origin, "https://relay.example": where the
	// form fetches challenges and sends reports.
	Relay string
	// Statement is the hotline's signed key statement; VerificationKey
	// its hlvk_… key, which the statement must verify against.
	Statement       []byte
	VerificationKey string
	// Assets is the folder `make build` wrote: widget.wasm, wasm_exec.js
	// and, where current, their .br and .gz.
	Assets string
	// Languages are the hotline's languages, preferred first; the first
	// with a catalogue is index.html's. Empty: the default locale.
	Languages []string
	// Categories are the report categories in the hotline's remit;
	// empty for all.
	Categories []string
	// EmergencyNumber and ReportPage are shown in the form as the relay
	// shows its hotline's (emergency_number, report_page).
	EmergencyNumber, ReportPage string
	// ReportRemove offers Report Remove on the under-18 path.
	ReportRemove bool
	// FollowUp offers the reporter a code for the hotline's replies; the
	// relay must keep mailboxes (relay.mailbox).
	FollowUp bool
	// NoUrgentMarker keeps the form from marking urgent reports for the
	// relay (as urgent_marker = false).
	NoUrgentMarker bool
	// Now is the time the statement must be valid at; zero for now.
	Now time.Time
}

// CSP is the Content-Security-Policy of a published page, for the relay
// at relayOrigin: what the page says in its own <meta> element, and what
// a server should send as a header, with frame-ancestors added (which a
// <meta> element cannot carry).
func CSP(relayOrigin string) string {
	return "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' " + relayOrigin +
		"; img-src 'self'; form-action 'none'; base-uri 'none'"
}

// Write writes the folder dir, which must not exist yet. It is written
// beside dir under a temporary name and renamed into place when whole, so
// a server never serves half a folder; a statement that does not verify,
// names no valid period now, or a relay that is not an origin, writes
// nothing. The temporary folder a crashed publish of dir left is removed.
func Write(dir string, o Options) error {
	st, err := o.check()
	if err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%w: %s: publish into a new folder, then swap it for the served one", ErrExists, dir)
	}
	parent, prefix := filepath.Dir(filepath.Clean(dir)), "."+filepath.Base(dir)+".tmp-"
	// What an earlier publish of dir that a crash cut short left.
	if stale, err := filepath.Glob(filepath.Join(parent, globEscape(prefix)+"*")); err == nil {
		for _, p := range stale {
			os.RemoveAll(p)
		}
	}
	tmp, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := o.write(tmp, st); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("publish: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// globEscape escapes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// check verifies the statement against the hotline's key and the options'
// values, as the form will.
func (o *Options) check() (*statement.Statement, error) {
	// The relay's public_url as written in its configuration may end in a
	// slash, which the relay drops; so does publish.
	o.Relay = strings.TrimSuffix(o.Relay, "/")
	if u, err := url.Parse(o.Relay); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("publish: the relay %q is not an origin: give its public_url, like https://relay.example", o.Relay)
	}
	if err := statement.CheckVerificationKey(o.VerificationKey); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	st, err := statement.Parse(o.Statement)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := st.Verify(o.VerificationKey); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := st.Check(st.Hotline, 0, now, 0); err != nil {
		return nil, fmt.Errorf("publish: %w: sign a statement valid now with `hotline sign`", err)
	}
	for _, c := range o.Categories {
		if !report.KnownCategory(c) {
			return nil, fmt.Errorf("publish: %q is not a category; known: %s", c, strings.Join(report.Categories, ", "))
		}
	}
	if o.ReportPage != "" {
		if u, err := url.Parse(o.ReportPage); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("publish: the report page %q is not an http(s) URL", o.ReportPage)
		}
	}
	return st, nil
}

// file is one file of the folder under a/.
type file struct {
	name string // "widget.wasm"
	b    []byte
	pre  *assets.Compressed
}

func (o *Options) write(dir string, st *statement.Statement) error {
	var files []file
	for _, name := range []string{"widget.wasm", "wasm_exec.js"} {
		b, err := os.ReadFile(filepath.Join(o.Assets, name))
		if err != nil {
			return fmt.Errorf("publish: %w (run `make build` to make it)", err)
		}
		files = append(files, file{name, b, assets.ReadPrecompressed(o.Assets, name, b)})
	}
	for _, name := range []string{"frame.css", "boot.js"} {
		b, err := fs.ReadFile(snippet.Files, name)
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		files = append(files, file{name: name, b: b})
	}
	for _, loc := range report.Locales() {
		cat, err := report.LoadCatalog(loc)
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		b, err := json.Marshal(cat)
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		files = append(files, file{name: "messages-" + loc + ".json", b: b})
	}
	paths := map[string]string{}
	if err := os.Mkdir(filepath.Join(dir, "a"), 0o755); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	for _, f := range files {
		p := strings.TrimPrefix(assets.HashedPath(f.name, f.b), "/")
		paths[f.name] = p
		pre := f.pre
		if pre == nil {
			pre = assets.Compress(f.b, len(f.b) < 256<<10)
		}
		for suffix, b := range map[string][]byte{"": f.b, ".br": pre.Brotli, ".gz": pre.Gzip} {
			if err := writeFile(filepath.Join(dir, filepath.FromSlash(p)+suffix), b); err != nil {
				return err
			}
		}
	}
	frames, err := frame.Parse(func(name string) string { return paths[name] })
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	form := report.DefaultForm()
	if len(o.Categories) > 0 {
		form = form.WithCategories(o.Categories)
	}
	site := "/v1/sites/" + frame.SitePlaceholder
	cfg := frame.Config{
		Hotline: st.Hotline, Statement: string(o.Statement), Categories: form.Field("category").Options,
		Endpoint: o.Relay + site + "/reports/", Challenge: o.Relay + site + "/challenge",
		Module: paths["widget.wasm"], Messages: frame.MessageURLs(func(name string) string { return paths[name] }),
		Urgent: !o.NoUrgentMarker, Relay: o.Relay, HotlineKey: o.VerificationKey,
		MinSerial: strconv.FormatUint(st.Serial, 10),
	}
	if o.FollowUp {
		cfg.Mailbox = o.Relay + site + "/mailbox"
	}
	first := frame.PickLocale("", o.Languages)
	for _, loc := range report.Locales() {
		dirAttr := "ltr"
		if report.RTL(loc) {
			dirAttr = "rtl"
		}
		c := cfg
		c.Locale = loc
		page := frame.Page{
			Locale: loc, Dir: dirAttr, Form: form, Languages: frame.Languages(frames, loc), Messages: frames[loc].Catalog(),
			Emergency: o.EmergencyNumber, ReportPage: o.ReportPage, ReportRemove: o.ReportRemove,
			Config: c, CSP: CSP(o.Relay),
		}
		var buf bytes.Buffer
		if err := frames[loc].Execute(&buf, &page); err != nil {
			return fmt.Errorf("publish: failed to render the %s page: %w", loc, err)
		}
		if err := writeFile(filepath.Join(dir, loc+".html"), buf.Bytes()); err != nil {
			return err
		}
		if loc == first {
			if err := writeFile(filepath.Join(dir, "index.html"), buf.Bytes()); err != nil {
				return err
			}
		}
	}
	return writeFile(filepath.Join(dir, "statement.txt"), o.Statement)
}

// writeFile writes b to name and syncs it, so that the rename that
// publishes the folder never makes a folder of empty files visible after
// a crash.
func writeFile(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("publish: %s: %w", path.Base(filepath.ToSlash(name)), err)
	}
	return nil
}

// ErrExists is returned by Write for a folder that exists.
var ErrExists = errors.New("publish: the folder exists")
