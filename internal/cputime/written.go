package cputime

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Written returns how many bytes the process has caused to be written to
// storage so far (write_bytes in Linux's /proc/self/io: data and files it
// made dirty, once the kernel sends them to the disk), or -1 where that
// cannot be read. Benchmarks report it per operation beside the CPU time,
// for work that waits on the disk rather than the processor.
func Written() int64 { return written("/proc/self/io") }

// WrittenBy is Written for another process, by its id: for benchmarks
// that run the relay and the intake as processes of their own.
func WrittenBy(pid int) int64 { return written(fmt.Sprintf("/proc/%d/io", pid)) }

func written(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "write_bytes:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// UsedBy is Used for another process, by its id, from Linux's
// /proc/PID/stat, or -1 where that cannot be read.
func UsedBy(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The fields after the command's name, which is in parentheses and
	// may hold spaces: the state is the first, utime the 12th and stime
	// the 13th, in clock ticks.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is Linux's USER_HZ, the unit of /proc's CPU times: 100 on
// every architecture Go supports.
const clockTicks = 100
