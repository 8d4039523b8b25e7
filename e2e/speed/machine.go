package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// machine says what the numbers were measured on.
type machine struct {
	CPUs     int
	CPU      string
	OS       string
	Chromium string
	Go       string
}

// loadAverage returns the one-minute load average, or -1 if unknown. A
// machine busy with other work slows every time down.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	if _, err := fmt.Sscan(string(b), &l); err != nil {
		return -1
	}
	return l
}

func (m machine) String() string {
	return fmt.Sprintf("%d CPUs (%s), %s, %s, %s", m.CPUs, m.CPU, m.OS, m.Chromium, m.Go)
}

func describeMachine(chromium string) (machine, error) {
	m := machine{CPUs: runtime.NumCPU(), CPU: "unknown CPU", OS: runtime.GOOS, Go: runtime.Version()}
	out, err := exec.Command(chromium, "--version").Output()
	if err != nil {
		return m, fmt.Errorf("failed to run %s --version (set -chromium or CHROMIUM; Debian: apt-get install chromium): %w", chromium, err)
	}
	m.Chromium = strings.TrimSpace(string(out))
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	return m, nil
}
