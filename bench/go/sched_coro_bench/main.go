// Command sched_coro_bench is the Go twin of runtime/sched_coro_bench.c,
// printed as one JSON object with the same keys:
//   - park_unpark_round_trip_ns: Go does not expose its scheduler's
//     gopark/goready, so the nearest user-level hand-off stands in: two
//     goroutines pass a token over two chan struct{} of capacity 1
//     (1,000,000 round trips, as on coroutines);
//   - a crowd of LEAKBENCH_BENCH_CROWD goroutines (default 50,000), each
//     blocked in a select on (jobs, ctx.Done()): the time to create it
//     until all had reached their select, the resident memory it added per
//     goroutine (first crowd, fresh stacks), and the time from cancel until
//     every one returned.
//
// Timings are medians of LEAKBENCH_BENCH_REPS (default 3) repetitions,
// under benchutil's stall guard as in C.
// Standard library only; GOMAXPROCS comes from the environment.
package main

import (
	"fmt"
	"leakbench/bench/go/benchutil"
	"runtime"
	"time"
)

func tokenPass(rounds int64) float64 {
	a, b := make(chan struct{}, 1), make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		for i := int64(0); i < rounds; i++ {
			<-b
			a <- struct{}{}
		}
		close(done)
	}()
	t0 := time.Now()
	for i := int64(0); i < rounds; i++ {
		b <- struct{}{}
		<-a
	}
	ns := float64(time.Since(t0).Nanoseconds()) / float64(rounds)
	<-done
	return ns
}

func main() {
	reps := int(benchutil.EnvLong("sched_coro_bench", "LEAKBENCH_BENCH_REPS", 3))
	if reps > 32 {
		reps = 32
	}
	crowd := int(benchutil.EnvLong("sched_coro_bench", "LEAKBENCH_BENCH_CROWD", 50000))
	const rounds = 1000000
	var create, cancel, pu benchutil.Series
	var first benchutil.CrowdResult
	for i := 0; i < reps; i++ { // the crowd first: fresh stacks, as in C
		r := benchutil.MeasureCrowd(crowd, &create, &cancel)
		if i == 0 {
			first = r
		}
	}
	for i := 0; i < reps; i++ {
		pu.Measure(func() float64 { return tokenPass(rounds) })
	}
	fmt.Printf("{\n  \"benchmark\": \"sched_coro_bench\",\n  \"scheduler\": \"go\",\n  \"go_version\": %q,\n"+
		"  \"gomaxprocs\": %d,\n  \"repetitions\": %d,\n  \"cpus\": %d,\n",
		runtime.Version(), runtime.GOMAXPROCS(0), reps, runtime.NumCPU())
	fmt.Printf("  %s,\n  \"park_unpark_rounds\": %d,\n"+
		"  \"park_unpark_note\": \"token over two chan struct{} of capacity 1 (Go has no user-level park)\",\n",
		pu.JSON("park_unpark_round_trip_ns", "ns"), rounds)
	fmt.Printf("  \"crowd_tasks\": %d,\n", crowd)
	fmt.Printf("  %s,\n  %s,\n", create.JSON("create_crowd_until_blocked_ms", "ms"),
		cancel.JSON("cancel_crowd_until_exited_ms", "ms"))
	fmt.Printf("  \"resident_bytes_per_blocked_task\": {\"value\": %.0f, \"unit\": \"bytes\", "+
		"\"note\": \"first crowd, fresh stacks\"},\n", first.RSSPerTask)
	fmt.Printf("  \"stall_probe_fastest_us\": %.4g\n}\n", benchutil.ProbeFastestUs())
}
