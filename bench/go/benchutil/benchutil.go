// Package benchutil holds what the Go twins of the runtime benchmarks
// (rt_bench, sched_coro_bench) measure with: the same environment knobs,
// medians and resident-memory reading as runtime/bench_util.h on the C
// side, written once for both twins.
package benchutil

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// EnvLong reads a positive integer knob (LEAKBENCH_BENCH_REPS, ...); a
// malformed value ends the program with exit 2, naming prog.
func EnvLong(prog, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	x, err := strconv.ParseInt(v, 10, 64)
	if err != nil || x <= 0 {
		fmt.Fprintf(os.Stderr, "%s (Go): %s=%s: expected a positive integer\n", prog, name, v)
		os.Exit(2)
	}
	return x
}

// Median of v (v itself is left unsorted).
func Median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ResidentBytes is the process's resident memory from /proc/self/statm,
// or -1 when it cannot be read.
func ResidentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return -1
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
