// Package benchutil holds what the Go twins of the runtime benchmarks
// (rt_bench, sched_coro_bench) measure with: the same environment knobs,
// medians, resident-memory reading, blocked crowd and stall guard as
// runtime/bench_util.h on the C side, written once for both twins.
//
// The stall guard is bench_util.h's, with the same loop and constants:
// every repetition is bracketed by two probes (ProbeIters dependent
// multiply-adds, timed); one whose slower probe took more than StallFactor
// times the program's fastest probe was measured while the machine stalled
// (these VMs do, for a second or more every few seconds). It is
// measured again once the stall is over, up to StallRetries times, and if
// it still stalled it is left out of the figure's median and listed under
// "stalled".
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

// The stall guard's constants, as in bench_util.h.
const (
	ProbeIters    = 100000
	StallFactor   = 2.0
	StallRetries  = 4
	StallWaitMs   = 3000
	CalibrateMs   = 1000
	probeMultiply = 6364136223846793005
	probeAdd      = 1442695040888963407
)

var (
	probeFastestUs = 1e300 // over the whole program so far
	probeSink      uint64
	calibrated     bool
)

// ProbeUs times ProbeIters dependent multiply-adds, in microseconds.
func ProbeUs() float64 {
	t0 := time.Now()
	x := uint64(t0.UnixNano())
	for i := 0; i < ProbeIters; i++ {
		x = x*probeMultiply + probeAdd
	}
	probeSink = x
	us := float64(time.Since(t0).Nanoseconds()) / 1e3
	if us < probeFastestUs {
		probeFastestUs = us
	}
	return us
}

// ProbeFastestUs is the fastest probe so far.
func ProbeFastestUs() float64 { return probeFastestUs }

func isStall(probeUs float64) bool { return probeUs > StallFactor*probeFastestUs }

// waitOutStall probes every 10 ms until one is fast again (at most
// StallWaitMs).
func waitOutStall() {
	for i := 0; i < StallWaitMs/10; i++ {
		if !isStall(ProbeUs()) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// calibrate runs once per program, before its first repetition: probes
// every 10 ms for CalibrateMs (stalls seldom last longer), so that the
// fastest probe is a fast machine's, then waits out a stall in progress.
func calibrate() {
	if calibrated {
		return
	}
	calibrated = true
	end := time.Now().Add(CalibrateMs * time.Millisecond)
	for time.Now().Before(end) {
		ProbeUs()
		time.Sleep(10 * time.Millisecond)
	}
	waitOutStall()
}

// Series is one figure's repetitions, each with the slower of the probes
// around it.
type Series struct {
	Values, Probes []float64
	Retries        int
}

func (s *Series) add(v, probe float64) {
	s.Values = append(s.Values, v)
	s.Probes = append(s.Probes, probe)
}

// attemptKept is bench_util.h's bench_attempt_kept: whether an attempt
// whose slower probe was probeUs is kept (yes unless the machine stalled
// and retries are left); if not, it counts a retry and waits the stall out.
func attemptKept(probeUs float64, attempt int, retries *int) bool {
	if !isStall(probeUs) || attempt == StallRetries {
		return true
	}
	*retries++
	waitOutStall()
	return false
}

// Measure adds one repetition of f under the stall guard (f must be
// repeatable).
func (s *Series) Measure(f func() float64) {
	calibrate()
	for try := 0; ; try++ {
		before := ProbeUs()
		v := f()
		probe := maxf(before, ProbeUs())
		if attemptKept(probe, try, &s.Retries) {
			s.add(v, probe)
			return
		}
	}
}

// Median of the repetitions measured without a stall (of all of them when
// every one stalled), and how many stalled.
func (s *Series) Median() (float64, int) {
	var clean []float64
	for i, v := range s.Values {
		if !isStall(s.Probes[i]) {
			clean = append(clean, v)
		}
	}
	stalled := len(s.Values) - len(clean)
	if len(s.Values) == 0 {
		return 0, 0
	}
	if len(clean) == 0 {
		return Median(s.Values), stalled
	}
	return Median(clean), stalled
}

// JSON is the figure as bench_util.h's bench_series_json writes it:
// "name": {"median": m, "unit": u, "samples": [...], "stalled": [...], "retried": n}.
func (s *Series) JSON(name, unit string) string {
	var b strings.Builder
	m, _ := s.Median()
	fmt.Fprintf(&b, "%q: {\"median\": %.6g, \"unit\": %q, \"samples\": [", name, m, unit)
	for i, v := range s.Values {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.6g", v)
	}
	b.WriteString("], \"stalled\": [")
	k := 0
	for i := range s.Values {
		if isStall(s.Probes[i]) {
			if k > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d", i)
			k++
		}
	}
	fmt.Fprintf(&b, "], \"retried\": %d}", s.Retries)
	return b.String()
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

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

// MeasureCrowd is bench_util.h's bench_measure_crowd: one repetition of
// BlockedCrowd(k) into create and cancel under the stall guard, except
// that the first (fresh stacks) is never measured again: it waits for a
// fast machine before it starts and is judged by the probe before it
// alone. It returns the first attempt (its resident memory is the
// fresh-stack figure).
func MeasureCrowd(k int, create, cancel *Series) CrowdResult {
	fresh := len(create.Values) == 0
	calibrate()
	if fresh {
		waitOutStall()
	}
	var first CrowdResult
	for attempt := 0; ; attempt++ {
		before := ProbeUs()
		r := BlockedCrowd(k)
		after := ProbeUs()
		probe := maxf(before, after)
		if fresh {
			probe = before
		}
		if attempt == 0 {
			first = r
		}
		if fresh || attemptKept(probe, attempt, &create.Retries) {
			create.add(r.CreateMs, probe)
			cancel.add(r.CancelMs, probe)
			cancel.Retries = create.Retries // one measurement, two figures
			return first
		}
	}
}
