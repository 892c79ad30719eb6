// Command rt_bench is the Go twin of runtime/rt_bench.c: the same figures,
// with the same shapes, sizes and repetition counts, measured on Go's own
// runtime, printed as one JSON object with the same keys, so that
// bench/compare can put each figure beside leakbench's.
//
// Standard library only (Debian's golang-go has no module proxy).  Each
// figure is the median of LEAKBENCH_BENCH_REPS repetitions (default 5; the
// big crowd min(reps, 3)), under benchutil's stall guard as in C:
//   - pingpong_unbuffered_round_trip_ns: two goroutines, two unbuffered
//     channels, 20,000 round trips;
//   - buffered_chan_throughput: one sender, one receiver, cap 128,
//     500,000 values (ops/s);
//   - seed_pool_throughput: 2 workers, jobs and results channels of 100,
//     every send and receive a select on ctx.Done(), 200,000 zero-work jobs;
//   - spawn_cost_ns: 2,000 goroutines that each call wg.Done, until Wait
//     returns, per goroutine;
//   - cancel_120_blocked_until_exited_ms and the big crowd
//     (LEAKBENCH_BENCH_BIG, default 10,000): K goroutines blocked in a
//     select on (jobs, ctx.Done()), from cancel until every one returned;
//     for the big crowd also the time to create it until all had reached
//     their select (an atomic count just before it: Go does not expose
//     "blocked") and the resident memory it added per goroutine
//     (/proc/self/statm, first crowd, fresh stacks).
//
// The big crowds run first, as in C: the first one on fresh stacks, the
// rest round after round with warm free lists.
//
// LEAKBENCH_BENCH_SCALE multiplies the iteration counts, as in C.
// GOMAXPROCS comes from the environment (bench/run sets 2).
package main

import (
	"context"
	"fmt"
	"leakbench/bench/go/benchutil"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

func pingpong(rounds int64) float64 {
	ping, pong := make(chan *int), make(chan *int)
	done := make(chan struct{})
	go func() {
		for i := int64(0); i < rounds; i++ {
			v := <-ping
			pong <- v
		}
		close(done)
	}()
	x := 0
	t0 := time.Now()
	for i := int64(0); i < rounds; i++ {
		ping <- &x
		<-pong
	}
	ns := float64(time.Since(t0).Nanoseconds()) / float64(rounds)
	<-done
	return ns
}

func buffered(n int64) float64 {
	ch := make(chan uintptr, 128)
	t0 := time.Now()
	go func() {
		for i := int64(0); i < n; i++ {
			ch <- uintptr(i + 1)
		}
	}()
	for i := int64(0); i < n; i++ {
		<-ch
	}
	return float64(n) / time.Since(t0).Seconds()
}

func seedPool(n int64, workers int) float64 {
	jobs, results := make(chan uintptr, 100), make(chan uintptr, 100)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(workers + 1)
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			for {
				var j uintptr
				var ok bool
				select {
				case j, ok = <-jobs:
				case <-ctx.Done():
					return
				}
				if !ok {
					return
				}
				select {
				case results <- j:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer wg.Done()
		for i := int64(0); i < n; i++ {
			select {
			case jobs <- uintptr(i + 1):
			case <-ctx.Done():
				close(jobs)
				return
			}
		}
		close(jobs)
	}()
	got := int64(0)
	for got < n {
		select {
		case <-results:
			got++
			continue
		case <-ctx.Done():
		}
		break
	}
	jps := float64(got) / time.Since(t0).Seconds()
	cancel()
	wg.Wait()
	if got != n {
		return -1
	}
	return jps
}

func spawn(n int64) float64 {
	var wg sync.WaitGroup
	wg.Add(int(n))
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go wg.Done()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func metric(b *strings.Builder, name, unit string, s *benchutil.Series) {
	fmt.Fprintf(b, ",\n  %s", s.JSON(name, unit))
}

func main() {
	reps := int(benchutil.EnvLong("rt_bench", "LEAKBENCH_BENCH_REPS", 5))
	if reps > 64 {
		reps = 64
	}
	scale := benchutil.EnvLong("rt_bench", "LEAKBENCH_BENCH_SCALE", 1)
	big := int(benchutil.EnvLong("rt_bench", "LEAKBENCH_BENCH_BIG", 10000))
	ppRounds, bufN, poolN, spawnN := 20000*scale, 500000*scale, 200000*scale, 2000*scale
	bigReps := reps
	if bigReps > 3 {
		bigReps = 3
	}
	// The big crowds first, as in rt_bench.c: the first one on fresh
	// stacks, everything after it with warm free lists.
	var bigc, bigcreate benchutil.Series
	var rss []float64
	for i := 0; i < bigReps; i++ {
		r := benchutil.MeasureCrowd(big, &bigcreate, &bigc)
		rss = append(rss, r.RSSPerTask)
	}
	var pp, buf, pool, sp, c120 benchutil.Series
	for i := 0; i < reps; i++ {
		pp.Measure(func() float64 { return pingpong(ppRounds) })
		buf.Measure(func() float64 { return buffered(bufN) })
		pool.Measure(func() float64 { return seedPool(poolN, 2) })
		sp.Measure(func() float64 { return spawn(spawnN) })
		c120.Measure(func() float64 { return benchutil.BlockedCrowd(120).CancelMs })
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{\n  \"benchmark\": \"rt_bench\",\n  \"scheduler\": \"go\",\n  \"go_version\": %q,\n"+
		"  \"gomaxprocs\": %d,\n  \"repetitions\": %d,\n  \"cpus\": %d",
		runtime.Version(), runtime.GOMAXPROCS(0), reps, runtime.NumCPU())
	metric(&b, "pingpong_unbuffered_round_trip_ns", "ns", &pp)
	metric(&b, "buffered_chan_throughput", "ops/s", &buf)
	b.WriteString(",\n  \"seed_pool_workers\": 2")
	metric(&b, "seed_pool_throughput", "jobs/s", &pool)
	metric(&b, "spawn_cost_ns", "ns", &sp)
	metric(&b, "cancel_120_blocked_until_exited_ms", "ms", &c120)
	fmt.Fprintf(&b, ",\n  \"big_crowd_workers\": %d", big)
	metric(&b, "cancel_big_crowd_until_exited_ms", "ms", &bigc)
	metric(&b, "create_big_crowd_until_blocked_ms", "ms", &bigcreate)
	fmt.Fprintf(&b, ",\n  \"resident_bytes_per_blocked_task\": {\"value\": %.6g, \"unit\": \"bytes\", "+
		"\"from\": \"first big crowd (fresh stacks)\", \"later_samples\": [", rss[0])
	for i := 1; i < len(rss); i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.6g", rss[i])
	}
	b.WriteString("]}")
	fmt.Fprintf(&b, ",\n  \"stall_probe_fastest_us\": %.4g", benchutil.ProbeFastestUs())
	fmt.Fprintf(&b, ",\n  \"iterations\": {\"pingpong\": %d, \"buffered\": %d, \"seed_pool\": %d, "+
		"\"spawn\": %d}\n}\n", ppRounds, bufN, poolN, spawnN)
	os.Stdout.WriteString(b.String())
}
