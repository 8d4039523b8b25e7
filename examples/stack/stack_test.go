package stack

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/testbin"
)

// buildBins builds the commands the stack runs, once per test binary.
func buildBins(t *testing.T) string {
	return testbin.BuildAll(t, "../../cmd/relay", "../../cmd/hotline", "../partner-site")
}

func TestMain(m *testing.M) { testbin.Main(m) }

// stubAssets makes the folder make build fills, enough for the relay to start.
func stubAssets(t *testing.T) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "widget.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	os.WriteFile(filepath.Join(dir, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)
	return dir
}

// TestStartTwiceWithRelativeState is make demo run twice, the second time
// after the first was stopped: with the state folder given relative to
// the working directory, as the Makefile gives it (.demo), the stack
// starts, stops, and starts again on the keys it made the first time.
func TestStartTwiceWithRelativeState(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the relay, the intake and the partner page")
	}
	bin, assets := buildBins(t), stubAssets(t)
	t.Chdir(t.TempDir())
	for run := range 2 {
		s, err := Start(Options{Bin: bin, Assets: assets, State: ".demo"})
		if err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		resp, err := http.Get(s.RelayURL + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		s.Stop()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("run %d: the relay's /readyz: %v %v", run+1, resp, err)
		}
	}
}

// TestStartRefusesATakenPort: with a port already taken (a demo still
// running, answering 200 to everything), Start says which port, for
// what, and which flag picks another, before it starts or prints
// anything, instead of taking the other program for its own.
func TestStartRefusesATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	port := ln.Addr().(*net.TCPAddr).Port
	for _, tt := range []struct {
		opts Options
		flag string
	}{
		{Options{IntakePort: port}, "-intake-port"},
		{Options{RelayPort: port}, "-relay-port"},
		{Options{PartnerPort: port}, "-partner-port"},
		{Options{SplitFrame: true, FramePort: port}, "-frame-port"},
	} {
		tt.opts.Bin, tt.opts.State = filepath.Join(t.TempDir(), "no-binaries-needed"), t.TempDir()
		_, err := Start(tt.opts)
		if !errors.Is(err, ErrPortInUse) {
			t.Fatalf("Start with %s taken: %v, want ErrPortInUse", tt.flag, err)
		}
		for _, want := range []string{fmt.Sprintf("127.0.0.1:%d", port), tt.flag} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Start with %s taken: %q lacks %q", tt.flag, err, want)
			}
		}
	}
}
