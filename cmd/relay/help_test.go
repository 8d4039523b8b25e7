package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/testbin"
)

// flagLine is a line of flag.PrintDefaults that names a flag: the flag,
// then its argument's name, one word (flag takes the first `quoted` word
// of the usage text for it, so a quoted command there would show as the
// argument).
var flagLine = regexp.MustCompile(`^  -\S+(?: \S+)?$`)

// TestHelp: `relay -h`, like `relay help`, lists the commands, not the
// flags of serve, the command that runs without a name.
func TestHelp(t *testing.T) {
	bin := testbin.Build(t, "relay")
	for _, arg := range []string{"-h", "--help", "help"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "relay check-config") || !strings.Contains(string(out), "relay spool ls") {
			t.Errorf("relay %s: %v\n%s\nwant the list of commands", arg, err, out)
		}
	}
}

// TestSubcommandHelp: `relay SUB -h` answers with the subcommand's flags,
// each with a one-word argument name, exits 0 and reports no error.
func TestSubcommandHelp(t *testing.T) {
	bin := testbin.Build(t, "relay")
	// spool's help is a table of its own, checked for its exit only.
	for _, sub := range []string{"serve", "check-config", "init", "keygen", "snippet", "spool"} {
		cmd := exec.Command(bin, sub, "-h")
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "error:") {
			t.Errorf("relay %s -h: %v\n%s", sub, err, out)
		}
		flags := 0
		for _, l := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(l, "  -") {
				continue
			}
			flags++
			if l, _, _ = strings.Cut(l, "\t"); sub != "spool" && !flagLine.MatchString(l) {
				t.Errorf("relay %s -h: %q: the argument's name is more than one word", sub, l)
			}
		}
		if flags == 0 {
			t.Errorf("relay %s -h lists no flag:\n%s", sub, out)
		}
	}
}

// TestSpoolWithoutConfiguration: relay spool run where there is no
// relay.toml says how to name it; with a configuration that does not
// load, it points at the value to fix.
func TestSpoolWithoutConfiguration(t *testing.T) {
	bin := testbin.Build(t, "relay")
	dir := t.TempDir()
	cmd := exec.Command(bin, "spool", "ls")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "relay: hint: pass -config FILE") {
		t.Errorf("relay spool ls without relay.toml: %v\n%s\nwant a hint to pass -config FILE", err, out)
	}
	os.WriteFile(filepath.Join(dir, "relay.toml"), []byte("[relay]\nspoool = \"x\"\n"), 0o600)
	cmd = exec.Command(bin, "spool", "ls")
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unknown key "relay.spoool"`) || !strings.Contains(string(out), "relay check-config relay.toml") {
		t.Errorf("relay spool ls with a misspelt key: %v\n%s\nwant the key named and check-config suggested", err, out)
	}
}

// TestConfigGivenWithoutFlag: the configuration's file given as
// check-config takes it, to serve or as the command, is answered with the
// line that works.
func TestConfigGivenWithoutFlag(t *testing.T) {
	bin := testbin.Build(t, "relay")
	for _, args := range [][]string{{"serve", "relay.toml"}, {"relay.toml"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "relay: hint:") || !strings.Contains(string(out), "relay serve -config relay.toml") {
			t.Errorf("relay %v: %v\n%s\nwant a hint with relay serve -config relay.toml", args, err, out)
		}
	}
}
