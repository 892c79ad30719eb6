// Package benchutil holds what the Go twins of the runtime benchmarks
// (rt_bench, sched_coro_bench) measure with: the same environment knobs,
// medians, resident-memory reading and blocked crowd as runtime/bench_util.h on the C
// side, written once for both twins.
package benchutil

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// CrowdResult is one blocked crowd: the time to create it until every
// goroutine reached its select, the time from cancel until all returned,
// and the resident memory it added per goroutine.
type CrowdResult struct {
	CreateMs, CancelMs, RSSPerTask float64
}

// BlockedCrowd is bench_util.h's bench_blocked_crowd in Go: k goroutines
// blocked in a select on (a channel nobody sends on, ctx.Done()).
func BlockedCrowd(k int) CrowdResult {
	jobs := make(chan uintptr) // nobody ever sends
	ctx, cancel := context.WithCancel(context.Background())
	var exited sync.WaitGroup
	var reached int64
	rss0 := ResidentBytes()
	t0 := time.Now()
	for i := 0; i < k; i++ {
		exited.Add(1)
		go func() {
			defer exited.Done()
			atomic.AddInt64(&reached, 1)
			select {
			case <-jobs:
			case <-ctx.Done():
			}
		}()
	}
	for atomic.LoadInt64(&reached) < int64(k) {
		time.Sleep(200 * time.Microsecond)
	}
	r := CrowdResult{CreateMs: float64(time.Since(t0).Nanoseconds()) / 1e6}
	r.RSSPerTask = float64(ResidentBytes()-rss0) / float64(k)
	t1 := time.Now()
	cancel()
	exited.Wait()
	r.CancelMs = float64(time.Since(t1).Nanoseconds()) / 1e6
	return r
}
