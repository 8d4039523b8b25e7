package cputime

import (
	"os"
	"strconv"
	"strings"
)

// Written returns how many bytes the process has caused to be written to
// storage so far (write_bytes in Linux's /proc/self/io: data and files it
// made dirty, once the kernel sends them to the disk), or -1 where that
// cannot be read. Benchmarks report it per operation beside the CPU time,
// for work that waits on the disk rather than the processor.
func Written() int64 {
	b, err := os.ReadFile("/proc/self/io")
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
