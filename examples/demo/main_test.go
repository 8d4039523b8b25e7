package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// TestDemoPrintsWhatWorks runs the demo as make demo does (with free
// ports, from another working directory, in both set-ups) and checks what
// it prints: every address answers 200, the command to read a report names
// a binary that exists, and Ctrl-C (SIGINT to its process group, as a
// terminal sends it) stops it cleanly.
func TestDemoPrintsWhatWorks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the whole demo")
	}
	bin := testbin.BuildAll(t, ".", "../../cmd/relay", "../../cmd/hotline", "../partner-site")
	assets := t.TempDir()
	os.WriteFile(filepath.Join(assets, "widget.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	os.WriteFile(filepath.Join(assets, "wasm_exec.js"), []byte("// wasm_exec"), 0o644)
	for _, split := range []bool{false, true} {
		args := []string{"-bin", bin, "-assets", assets, "-state", filepath.Join(t.TempDir(), ".demo"),
			"-partner-port", "0", "-relay-port", "0", "-intake-port", "0", "-frame-port", "0"}
		if split {
			args = append(args, "-split")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "demo"), args...)
		cmd.Dir = t.TempDir()
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var printed strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			printed.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				break
			}
		}
		urls := regexp.MustCompile(`https?://[^\s)]+`).FindAllString(printed.String(), -1)
		if len(urls) < 2 {
			t.Errorf("split=%v: the demo printed %d addresses:\n%s\n%s", split, len(urls), printed.String(), stderr.String())
		}
		for _, u := range urls {
			resp, err := http.Get(u)
			if err != nil {
				t.Errorf("split=%v: %s: %v", split, u, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("split=%v: the demo printed %s, which answers %d", split, u, resp.StatusCode)
			}
		}
		if m := regexp.MustCompile(`Read it with:\s+(\S+) open`).FindStringSubmatch(printed.String()); m == nil {
			t.Errorf("split=%v: no command to read a report:\n%s", split, printed.String())
		} else {
			hotline := m[1]
			if !filepath.IsAbs(hotline) {
				hotline = filepath.Join(cmd.Dir, hotline)
			}
			if _, err := os.Stat(hotline); err != nil {
				t.Errorf("split=%v: the demo says to run %s, which is not there from where it ran: %v", split, m[1], err)
			}
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		rest, _ := io.ReadAll(stdout)
		if err := cmd.Wait(); err != nil || !strings.Contains(string(rest), "demo: stopped") {
			t.Errorf("split=%v: after Ctrl-C: %v\n%s\n%s", split, err, rest, stderr.String())
		}
	}
}
