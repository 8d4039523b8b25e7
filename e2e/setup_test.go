package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reportline/reportline/examples/stack"
)

// buildDir holds what TestMain's build made; TestMain removes it.
var buildDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// built is what the tests run: the binaries and the browser assets.
type built struct {
	root   string // the module's root
	bin    string // relay, hotline, partner-site, natsnode
	assets string // widget.wasm, wasm_exec.js
}

var (
	buildOnce   sync.Once
	buildResult built
	buildErr    error
)

// build builds the relay, the hotline tools, the partner page and the
// WebAssembly module into a temporary folder, once per test binary, so
// that `go test ./...` needs no `make build` first.
func build(t *testing.T) built {
	t.Helper()
	buildOnce.Do(func() {
		start := time.Now()
		buildResult, buildErr = doBuild()
		if buildErr == nil {
			t.Logf("built the binaries and the module in %s", time.Since(start).Round(time.Millisecond))
		}
	})
	if buildErr != nil {
		t.Fatalf("failed to build what the tests run: %v", buildErr)
	}
	return buildResult
}

func doBuild() (built, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return built{}, fmt.Errorf("the go command is not on PATH: %w", err)
	}
	out, err := exec.Command(goCmd, "env", "GOMOD").Output()
	if err != nil {
		return built{}, fmt.Errorf("go env: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if !strings.HasSuffix(gomod, "go.mod") {
		return built{}, fmt.Errorf("go env GOMOD printed %q: not inside the module", out)
	}
	root := filepath.Dir(gomod)
	if err := trackSources(root); err != nil {
		return built{}, err
	}
	dir, err := os.MkdirTemp("", "reportline-e2e-")
	if err != nil {
		return built{}, err
	}
	buildDir = dir
	b := built{root: root, bin: filepath.Join(dir, "bin"), assets: filepath.Join(dir, "assets")}
	if err := os.MkdirAll(b.assets, 0o755); err != nil {
		return built{}, err
	}
	run := func(env []string, args ...string) error {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	// -buildvcs=false: what the tests run needs no version stamp, and
	// without it a checkout that git refuses to read (another user's, or
	// no git installed) would fail the build.
	if err := run(nil, "build", "-buildvcs=false", "-o", b.bin+string(filepath.Separator),
		"./cmd/relay", "./cmd/hotline", "./examples/partner-site", "./examples/natsnode"); err != nil {
		return built{}, err
	}
	// The module as make builds it, with the one recipe (see
	// tools/wasmtrim), and in the same place: the path of the patched
	// copies is in the module's build information, and a temporary
	// folder's path there moves every address after it, which changes
	// the module's size after brotli by a few KB from one run to the
	// next. build/trim, as make writes it, gives the module make ships.
	unlock, err := lockTrim(root)
	if err != nil {
		return built{}, err
	}
	defer unlock()
	if err := run(nil, "run", "./tools/wasmtrim", "-dir", filepath.Join(root, "build", "trim"), "-assets", b.assets); err != nil {
		return built{}, err
	}
	return b, nil
}

// lockTrim keeps other test processes of this checkout from writing
// build/trim at the same time, until unlock.
func lockTrim(root string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Join(root, "build"), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(root, "build", ".trim.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock build/trim: %w", err)
	}
	return func() { f.Close() }, nil
}

// trackSources reads every source file of the module. go test caches a
// passing result keyed on the files the test process opened; the builds
// above happen in child processes, which it does not see. Reading the
// sources here makes a change anywhere in the module (the relay, the
// module, the snippet) invalidate a cached pass.
func trackSources(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "build", "node_modules", "artifacts", "testdata", ".demo":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".js", ".html", ".css", ".json", ".mod", ".sum":
			_, err := os.ReadFile(path)
			return err
		}
		return nil
	})
}

var (
	chromiumOnce sync.Once
	chromiumPath string
	chromiumErr  error
)

// chromium returns the browser to run: $CHROMIUM, or Debian's
// /usr/bin/chromium, which it installs with apt-get when missing and the
// test runs as root. It never skips: a test that did not run must not pass.
func chromium(t *testing.T) string {
	t.Helper()
	chromiumOnce.Do(func() { chromiumPath, chromiumErr = findChromium(t) })
	if chromiumErr != nil {
		t.Fatal(chromiumErr)
	}
	return chromiumPath
}

func findChromium(t *testing.T) (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHROMIUM=%s: %v", p, err)
		}
		return p, nil
	}
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("the end-to-end tests need Chromium, and %s is missing: "+
			"install it (`sudo apt-get install -y chromium`), set CHROMIUM to a Chromium binary, "+
			"or run the tests as root to have them install it", debian)
	}
	t.Logf("%s is missing: installing Debian's chromium with apt-get", debian)
	start := time.Now()
	for _, args := range [][]string{{"update"}, {"install", "-y", "chromium"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if _, err := os.Stat(debian); err != nil {
		return "", fmt.Errorf("apt-get installed chromium, but %s is still missing", debian)
	}
	t.Logf("installed chromium in %s", time.Since(start).Round(time.Second))
	return debian, nil
}

// startStack starts the intake, the relay and the partner page on free
// ports, with state in a fresh folder, and stops them when the test ends.
// If the test failed, it then prints every process's log. Each of opts
// may change the options first.
func startStack(t *testing.T, opts ...func(*stack.Options)) *stack.Stack {
	t.Helper()
	b := build(t)
	state := t.TempDir()
	o := stack.Options{Bin: b.bin, Assets: b.assets, State: state, RetryMin: "1s"}
	for _, f := range opts {
		f(&o)
	}
	s, err := stack.Start(o)
	if err != nil {
		dumpLogs(t, state)
		t.Fatalf("failed to start the stack: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, state)
		}
	})
	t.Cleanup(s.Stop) // runs first, so the logs above are complete
	return s
}

// dumpLogs prints the processes' logs, for a failure to be diagnosable.
func dumpLogs(t *testing.T, state string) {
	t.Helper()
	for _, name := range []string{"relay", "intake", "partner"} {
		b, err := os.ReadFile(filepath.Join(state, "logs", name+".log"))
		if err != nil {
			t.Logf("--- %s log: %v", name, err)
			continue
		}
		t.Logf("--- %s log:\n%s", name, bytes.TrimSpace(b))
	}
}
