package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/reportline/reportline/web/assets"
)

// The baseline is what the same browser does, in the same run, with the
// least a report frame could be: a loader with the same behaviour as
// embed.js, a static page of the widget page's size for the frame, and a
// Go WebAssembly module that does nothing but mark that it runs, started
// by the same wasm_exec.js. It is served from a server of the same kind as
// the relay (precompressed brotli, immutable hashed names), on loopback.

// baselineModule is the smallest Go program that can say it is ready.
const baselineModule = `package main

import "syscall/js"

func main() {
	js.Global().Get("performance").Call("mark", "baseline:ready")
	select {}
}
`

// buildBaselineModule compiles baselineModule for js/wasm with the flags
// of the Makefile's wasm target, in a temporary folder.
func buildBaselineModule(ctx context.Context, goCmd string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "reportline-speed-baseline-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(baselineModule), 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "baseline.wasm")
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("failed to build the baseline module: %v\n%s", err, b)
	}
	return os.ReadFile(out)
}

// baselineServer serves the baseline. One listener on 127.0.0.1 serves
// both sides: the page as http://localhost:PORT and the frame and its
// files as http://127.0.0.1:PORT, two sites, so the frame is cross-site
// and runs in its own process, as the report frame does.
type baselineServer struct {
	srv      *http.Server
	PageURL  string // + "?frame=static" or "?frame=wasm"
	FrameURL string // the origin of the frame and its files
}

// startBaseline starts the baseline server. module is the baseline module
// with its brotli form, wasmExec the relay's wasm_exec.js, and frameSize
// the byte size of the report frame's page, which the static frame page
// matches.
func startBaseline(module []byte, moduleC *assets.Compressed, wasmExec []byte, frameSize int) (*baselineServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	b := &baselineServer{
		PageURL:  fmt.Sprintf("http://localhost:%d/", port),
		FrameURL: fmt.Sprintf("http://127.0.0.1:%d", port),
	}
	modulePath := assets.HashedPath("baseline.wasm", module)
	execPath := assets.HashedPath("wasm_exec.js", wasmExec)
	boot := []byte(`(function () {
  "use strict";
  var go = new Go();
  WebAssembly.instantiateStreaming(fetch("` + modulePath + `"), go.importObject)
    .then(function (r) { return go.run(r.instance); });
})();
`)
	bootPath := assets.HashedPath("boot.js", boot)
	files := map[string]http.Handler{
		modulePath:   assets.StaticFile("baseline.wasm", module, assets.Immutable, moduleC),
		execPath:     assets.StaticFile("wasm_exec.js", wasmExec, assets.Immutable, nil),
		bootPath:     assets.StaticFile("boot.js", boot, assets.Immutable, nil),
		"/loader.js": assets.StaticFile("loader.js", []byte(baselineLoader), "public, max-age=300", nil),
	}
	// The relay writes the frame's page as it renders it, uncompressed.
	pages := map[string][]byte{
		"/frame/wasm":  []byte(wasmPage(execPath, bootPath)),
		"/frame/plain": staticPage(frameSize),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		kind := r.URL.Query().Get("frame")
		if kind != "plain" && kind != "wasm" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, hostPage, b.FrameURL, b.FrameURL+"/frame/"+kind)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if page, ok := pages[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write(page)
			return
		}
		if f := files[r.URL.Path]; f != nil {
			f.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *baselineServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		b.srv.Close()
	}
}

// hostPage stands for the partner page: a little text and the loader.
const hostPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baseline page</title>
</head>
<body>
<header><h1>Baseline page</h1></header>
<main><p>This page stands for a partner page. Its loader opens a frame from another site.</p></main>
<script async src="%s/loader.js" data-frame="%s"></script>
</body>
</html>
`

// baselineLoader does what embed.js does, and nothing else: a button in a
// closed shadow root, the frame made on intent, the dialog opened on click.
const baselineLoader = `(function () {
  "use strict";
  var s = document.currentScript, src = s.dataset.frame;
  var host = document.createElement("div");
  var root = host.attachShadow({ mode: "closed" });
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(":host{all:initial;display:inline-block;position:fixed;z-index:2147483000;bottom:16px;right:16px}" +
    "button{font:600 16px/1.2 system-ui,sans-serif;min-height:44px;padding:12px 18px;border:2px solid #fff;" +
    "border-radius:24px;background:#b00020;color:#fff;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)}" +
    "dialog{padding:0;border:0;border-radius:8px;width:min(640px,100vw);max-width:100vw;height:min(90vh,900px);max-height:100dvh}" +
    "dialog::backdrop{background:rgba(0,0,0,.6)}iframe{border:0;width:100%;height:100%;display:block}");
  root.adoptedStyleSheets = [sheet];
  var btn = document.createElement("button");
  btn.type = "button";
  btn.textContent = "Report child sexual abuse";
  var dlg = document.createElement("dialog");
  root.append(btn, dlg);
  var frame = null;
  function prepare() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.title = "Report";
    frame.src = src;
    dlg.append(frame);
  }
  ["pointerenter", "focus", "touchstart"].forEach(function (e) {
    btn.addEventListener(e, prepare, { once: true, passive: true });
  });
  btn.addEventListener("click", function () { prepare(); if (!dlg.open) dlg.showModal(); });
  document.body.append(host);
})();
`

// wasmPage is the frame page of the module baseline: nothing but the
// module, started as boot.js starts the report form's.
func wasmPage(execPath, bootPath string) string {
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Baseline module</title>
<script src="` + execPath + `" defer></script>
<script src="` + bootPath + `" defer></script>
</head>
<body>
<p>Baseline module</p>
</body>
</html>
`
}

// staticPage is a plain page of exactly size bytes (or the least it can
// be): a heading, the first field, and paragraphs of text.
func staticPage(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baseline frame</title>
</head>
<body>
<h1>Report</h1>
<form>
<label for="locations-0">Where is it?</label>
<input type="text" id="locations-0" name="locations">
</form>
`)
	const end = "</body>\n</html>\n"
	const para = "<p>This paragraph stands for the text of the report form: guidance, labels, hints and the options of its menus.</p>\n"
	for b.Len()+len(para)+len(end) <= size {
		b.WriteString(para)
	}
	if pad := size - b.Len() - len(end); pad > 0 {
		b.WriteString(strings.Repeat(" ", pad))
	}
	b.WriteString(end)
	return b.Bytes()
}
