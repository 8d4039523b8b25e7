package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/relay/config"
)

// The deployment examples are tested as far as this machine allows: the
// environment variables they set must be ones the relay reads, the paths
// they build must exist, the container must not run as root, and the
// systemd unit must pass `systemd-analyze verify` where that is installed.

var envName = regexp.MustCompile(`\bRELAY_[A-Z_]+\b`)

func knownEnv(name string) bool {
	if name == "RELAY_CONFIG" {
		return true
	}
	for _, k := range config.OverrideKeys {
		if k.Env == name {
			return true
		}
	}
	return false
}

func readExample(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", ".."}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContainerfile(t *testing.T) {
	cf := readExample(t, "examples", "container", "Containerfile")
	for _, name := range envName.FindAllString(cf, -1) {
		if !knownEnv(name) {
			t.Errorf("Containerfile sets %s, which the relay does not read", name)
		}
	}
	if !regexp.MustCompile(`(?m)^USER 65532:65532$`).MatchString(cf) || strings.Contains(cf, "USER root") {
		t.Error("the run stage must run as an unprivileged user")
	}
	if strings.Count(cf, "\nFROM ") != 2 || !strings.Contains(cf, "FROM scratch") {
		t.Error("want two stages, the last FROM scratch")
	}
	for _, pkg := range []string{"./cmd/relay", "./tools/wasmtrim"} {
		if !strings.Contains(cf, pkg) {
			t.Errorf("Containerfile does not build %s", pkg)
		}
		if _, err := os.Stat(filepath.Join("..", "..", pkg)); err != nil {
			t.Errorf("Containerfile builds %s, which does not exist", pkg)
		}
	}
	for _, f := range []string{"ca-certificates.crt", "/etc/passwd", "STOPSIGNAL SIGTERM", "VOLUME /var/lib/reportline-relay"} {
		if !strings.Contains(cf, f) {
			t.Errorf("Containerfile lacks %q", f)
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	unit := readExample(t, "examples", "systemd", "relay.service")
	for _, name := range envName.FindAllString(unit, -1) {
		if !knownEnv(name) {
			t.Errorf("the unit sets %s, which the relay does not read", name)
		}
	}
	for _, d := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=reportline-relay", "NoNewPrivileges=yes",
		"ExecReload=/bin/kill -HUP $MAINPID", "LoadCredential=", "PrivateTmp=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"} {
		if !strings.Contains(unit, d) {
			t.Errorf("the unit lacks %s", d)
		}
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit was checked only by the lines above")
	}
	dir := t.TempDir()
	bin := testbin.Build(t, "relay")
	path := filepath.Join(dir, "reportline-relay.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/relay", bin)), 0o644)
	if out, err := exec.Command(sa, "verify", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(sa, "security", "--offline=true", "--threshold=30", path).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 3.0 or error: %v\n%s", err, out)
	}
}

// TestSystemdUnitReadsItsConfiguration: the unit runs the relay as a
// DynamicUser, which is not root, and reads -config itself (only keys come
// as credentials): the install lines must leave the configuration's
// folder open to other users and the file readable, and the keys root's.
func TestSystemdUnitReadsItsConfiguration(t *testing.T) {
	unit := readExample(t, "examples", "systemd", "relay.service")
	m := regexp.MustCompile(`(?m)^ExecStart=\S+ serve -config (\S+)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("the unit has no ExecStart=… serve -config FILE")
	}
	cfg, dir := m[1], filepath.Dir(m[1])
	var lines []string
	for _, l := range strings.Split(unit, "\n") {
		l, _, _ = strings.Cut(strings.TrimPrefix(l, "#"), "#")
		lines = append(lines, l)
	}
	for _, block := range docBlocks(t, "## 5. Run under systemd") {
		lines = append(lines, block...)
	}
	mode := func(s string) os.FileMode {
		n, err := strconv.ParseUint(s, 8, 32)
		if err != nil {
			t.Fatalf("install mode %q: %v", s, err)
		}
		return os.FileMode(n)
	}
	made, installed := 0, 0
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 4 || f[0] != "install" || f[len(f)-2] == "-m" {
			continue
		}
		switch {
		case f[1] == "-d" && f[2] == "-m" && f[len(f)-1] == dir:
			made++
			if mode(f[3])&0o001 == 0 {
				t.Errorf("%q: the service's user could not reach %s", strings.TrimSpace(l), cfg)
			}
		case f[1] == "-m" && f[len(f)-1] == cfg:
			installed++
			if mode(f[2])&0o004 == 0 {
				t.Errorf("%q: the service's user could not read it", strings.TrimSpace(l))
			}
		case f[1] == "-m" && strings.HasPrefix(f[len(f)-1], dir+"/") && strings.HasSuffix(f[len(f)-1], ".key"):
			if mode(f[2])&0o077 != 0 {
				t.Errorf("%q: a key readable by others than root", strings.TrimSpace(l))
			}
			if !strings.Contains(unit, ":"+f[len(f)-1]+"\n") {
				t.Errorf("%q: the unit does not pass %s as a credential", strings.TrimSpace(l), f[len(f)-1])
			}
		}
	}
	if made < 2 || installed < 2 {
		t.Errorf("the unit's comments and deployment.md make %s %d times and install %s %d times; want both in each", dir, made, cfg, installed)
	}
}
