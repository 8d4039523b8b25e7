package spool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The crash test re-executes the test binary. The child opens the spool named
// by crashPathEnv, Puts one entry, prints crashMarker, and then dies without
// calling Close: at once (mode "exit"), or, in mode "kill", after the parent
// has checked the lock and asked it to, by SIGKILLing itself.
const (
	crashPathEnv = "SPOOL_CRASH_TEST_PATH"
	crashModeEnv = "SPOOL_CRASH_TEST_MODE"
	crashMarker  = "SPOOL-CRASH-CHILD-STORED"
)

func crashEntry() Entry {
	e := at("crash-0000-4000-8000-000000000001", 0)
	e.Body = []byte(strings.Repeat("ciphertext that must survive ", 400))
	return e
}

// crashChild is the child side. It never returns.
func crashChild(path, mode string) {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	if _, _, err := s.Put(crashEntry()); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	// No Close, no deferred cleanup: the process dies holding the file.
	fmt.Println(crashMarker)
	if mode == "exit" {
		os.Exit(0)
	}
	// Wait for the parent to try (and fail) to open the locked spool.
	bufio.NewReader(os.Stdin).ReadString('\n')
	p, _ := os.FindProcess(os.Getpid())
	p.Signal(os.Kill)
	time.Sleep(time.Minute)
	os.Exit(3) // not reached
}

func TestCrash(t *testing.T) {
	if path := os.Getenv(crashPathEnv); path != "" {
		crashChild(path, os.Getenv(crashModeEnv))
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	for _, mode := range []string{"exit", "kill"} {
		t.Run(mode, func(t *testing.T) {
			path := t.TempDir() + "/spool.db"
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashPathEnv+"="+path, crashModeEnv+"="+mode)
			cmd.Stderr = os.Stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()

			stored := false
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if sc.Text() == crashMarker {
					stored = true
					break
				}
			}
			if !stored {
				cmd.Wait()
				t.Fatal("child exited without storing the entry")
			}

			if mode == "kill" {
				// The child is alive and holds the lock.
				// A second Open must fail, not wait for the lock: it is
				// given two minutes, far more than its own lock timeout,
				// so that only an Open that blocks fails here.
				start := time.Now()
				opened := make(chan error, 1)
				go func() {
					s, err := Open(path)
					if err == nil {
						s.Close()
					}
					opened <- err
				}()
				select {
				case err = <-opened:
				case <-time.After(2 * time.Minute):
					t.Fatal("second Open still waits for the lock after 2 minutes; it must fail instead")
				}
				if err == nil {
					t.Fatal("second Open succeeded while the child holds the spool")
				}
				if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "locked by another process") {
					t.Errorf("second Open = %v, want ErrLocked", err)
				}
				t.Logf("second Open: %v (after %v)", err, time.Since(start).Round(time.Millisecond))
				fmt.Fprintln(stdin, "die")
			}

			err = cmd.Wait()
			var exit *exec.ExitError
			switch {
			case mode == "exit" && err != nil:
				t.Fatalf("child: %v", err)
			case mode == "kill" && (!errors.As(err, &exit) || exit.Exited()):
				t.Fatalf("child ended with %v, want killed by a signal", err)
			}
			t.Logf("child: %v", cmd.ProcessState)

			s, err := Open(path)
			if err != nil {
				t.Fatalf("reopen after crash: %v", err)
			}
			defer s.Close()
			checkInvariants(t, s)
			want := crashEntry()
			want.NextAttempt = want.Received
			got, err := s.Get(want.ID)
			if err != nil {
				t.Fatalf("entry lost in crash: %v", err)
			}
			if !sameEntry(got, want) {
				t.Errorf("after crash %+v, want %+v", got, want)
			}
			if due, err := s.Due(t0, 0); err != nil || len(due) != 1 {
				t.Errorf("Due after crash = %v, %v", ids(due), err)
			}
			if _, created, err := s.Put(crashEntry()); created || err != nil {
				t.Errorf("retried Put after crash = created %v, %v; want existing", created, err)
			}
		})
	}
}
