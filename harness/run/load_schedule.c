/*
 * load_schedule.c — whether a run's load generator kept its schedule
 * (load_schedule.h has the rule and why).
 */
#include "load_schedule.h"
#include "loadgen.h"

#include <math.h>
#include <string.h>

int64_t lb_arrivals_due(const lb_scenario_spec *spec, uint64_t seed, double until_ms)
{
    lb_arrivals a;
    lb_arrivals_init(&a, spec, seed);
    int64_t n = 0;
    double at_ms;
    while (lb_arrivals_next(&a, &at_ms) && at_ms < until_ms) n++;
    return n;
}

bool lb_load_behind(int64_t scheduled, int64_t on_time)
{
    int64_t late = scheduled - on_time;
    return scheduled > 0 && (double)late > LB_LOAD_BEHIND_SHARE * (double)scheduled;
}

/* Values recorded in the buckets at or below the one holding US. */
static int64_t count_at_most_us(const lb_histogram *h, uint64_t us)
{
    int last = lb_hist_bucket_of(us);
    uint64_t n = 0;
    for (int b = 0; b <= last; b++)
        n += atomic_load_explicit(&((lb_histogram *)h)->bucket[b], memory_order_relaxed);
    return (int64_t)n;
}

void lb_load_schedule_measure(const lb_scenario_spec *spec, uint64_t seed,
                              const lb_histogram *lateness, int64_t submitted, double load_ran_ms,
                              lb_load_schedule *out)
{
    memset(out, 0, sizeof *out);
    if (spec->model == LB_LOAD_CLOSED) return;
    out->active = true;
    out->scheduled = lb_arrivals_due(spec, seed, isnan(load_ran_ms) ? 0 : load_ran_ms);
    out->submitted = submitted;
    out->on_time = count_at_most_us(lateness, (uint64_t)(LB_LOAD_LATE_MS * 1000));
    /* Arrivals submitted after the cut (a generator that ran past the
     * load's end) are not arrivals that were due. */
    if (out->on_time > out->scheduled) out->on_time = out->scheduled;
    out->lateness = lb_latency_of(lateness);
    out->behind = lb_load_behind(out->scheduled, out->on_time);
}
