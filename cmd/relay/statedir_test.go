package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/reportline/reportline/internal/testbin"
	"github.com/reportline/reportline/relay/spool"
)

// TestStateFolderNotWritable: a spool or mailbox the relay cannot make
// (its folder is a file, or read-only) stops the relay with the key to
// fix and where such files belong.
func TestStateFolderNotWritable(t *testing.T) {
	bin := testbin.Build(t, "relay")
	s := newSetup(t)
	blocker := filepath.Join(s.dir, "not-a-folder")
	os.WriteFile(blocker, []byte("x"), 0o600)
	for key, extra := range map[string]string{
		"relay.spool":   "",
		"relay.mailbox": "mailbox = " + `"` + filepath.Join(blocker, "mailbox.db") + `"`,
	} {
		s.write(t, extra, `color = "#000000"`)
		if key == "relay.spool" {
			cfg, _ := os.ReadFile(s.cfgPath)
			s.writeConfig(t, strings.Replace(string(cfg), filepath.Join(s.dir, "spool.db"), filepath.Join(blocker, "spool.db"), 1))
		}
		out, err := exec.Command(bin, "serve", "-config", s.cfgPath, "-listen", "127.0.0.1:0").CombinedOutput()
		if err == nil {
			t.Fatalf("%s in a file: the relay started:\n%s", key, out)
		}
		for _, want := range []string{key, "writable", "docs/deployment.md"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s in a file:\n%s\nwant it to say %q", key, out, want)
			}
		}
	}
}

// TestListenAddressTaken: an address another program listens on stops
// the relay with the key or flag that moves it.
func TestListenAddressTaken(t *testing.T) {
	bin := testbin.Build(t, "relay")
	s := newSetup(t)
	s.write(t, "", `color = "#000000"`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := exec.Command(bin, "serve", "-config", s.cfgPath, "-listen", ln.Addr().String()).CombinedOutput()
	if err == nil {
		t.Fatalf("the relay started on a taken address:\n%s", out)
	}
	for _, want := range []string{ln.Addr().String(), "relay.listen", "-listen", "another"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("relay on a taken address:\n%s\nwant it to say %q", out, want)
		}
	}
}

// TestStateDiskFull: a relay that cannot make or upgrade its spool
// because the disk is full stops saying so, and what to do, instead of
// blaming the folder; once there is room it starts.
func TestStateDiskFull(t *testing.T) {
	bin := testbin.Build(t, "relay")
	s := newSetup(t)
	state := t.TempDir()
	if err := syscall.Mount("tmpfs", state, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(state, syscall.MNT_DETACH) })
	s.write(t, "", `color = "#000000"`)
	cfg, _ := os.ReadFile(s.cfgPath)
	s.writeConfig(t, strings.Replace(string(cfg), filepath.Join(s.dir, "spool.db"), filepath.Join(state, "spool.db"), 1))
	ballast := filepath.Join(state, "ballast")
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	for range 1 << 10 { // 4 MiB at most, far more than the disk holds
		if _, err = f.Write(make([]byte, 4<<10)); err != nil {
			break
		}
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v", err)
	}
	out, err := exec.Command(bin, "serve", "-config", s.cfgPath, "-listen", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatalf("the relay started on a full disk:\n%s", out)
	}
	for _, want := range []string{"disk", "full", "make room", "relay.spool"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("relay on a full disk:\n%s\nwant it to say %q", out, want)
		}
	}
	if strings.Contains(string(out), "writable") {
		t.Errorf("relay on a full disk:\n%s\nblames the folder", out)
	}
	os.Remove(ballast)
	out, err = exec.Command(bin, "check-config", s.cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
	sp, err := spool.Open(filepath.Join(state, "spool.db"))
	if err != nil {
		t.Fatalf("the spool once there is room: %v", err)
	}
	sp.Close()
}

// TestSpoolListReadOnlyDisk: a filesystem that met errors is mounted
// read-only again, and the relay cannot start on it; `relay spool ls`
// still lists what the spool holds, which is what the operator needs to
// know before moving it elsewhere.
func TestSpoolListReadOnlyDisk(t *testing.T) {
	state := t.TempDir()
	if err := syscall.Mount("tmpfs", state, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(state, syscall.MNT_DETACH) })
	path := filepath.Join(state, "spool.db")
	sp, err := spool.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const id = "0d8b6f1e-2c4a-4f7e-9b1d-5a6c7e8f9012"
	if _, _, err := sp.Put(spool.Entry{ID: id, Hotline: "h1", Site: "s1", Body: []byte("age")}); err != nil {
		t.Fatal(err)
	}
	sp.Close()
	if err := syscall.Mount("tmpfs", state, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := spoolCommand(&out, []string{"ls", "-spool", path}); err != nil {
		t.Fatalf("relay spool ls on a read-only disk: %v", err)
	}
	if !strings.Contains(out.String(), id) || !strings.Contains(out.String(), "1 pending") {
		t.Errorf("relay spool ls on a read-only disk:\n%s\nwant the pending report", &out)
	}
	if err := spoolCommand(&out, []string{"retry", id, "-spool", path}); err == nil {
		t.Error("relay spool retry on a read-only disk succeeded")
	}
}
