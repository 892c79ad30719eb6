/*
 * load_schedule.h — did the load generator keep its schedule?
 *
 * An open load (constant or Poisson arrivals) has a schedule: the
 * arrivals loadgen.c places for the repetition's seed.  A generator that
 * cannot keep it (a rate the machine cannot spawn clients for, a starved
 * CPU) submits arrivals late or not at all, and then a run measures the
 * generator, not the pipeline: the rate of 1e6/s on threads had
 * the graceful twin "unbounded, restart required" with only part of the
 * arrivals submitted.  So every open-model run records
 *
 *   scheduled   the arrivals due while the load ran: those with an offset
 *               before the load's end, or before the run stopped (a guard
 *               or an interrupt) if that came first;
 *   submitted   the requests the generator submitted;
 *   on_time     those submitted no later than LB_LOAD_LATE_MS after their
 *               scheduled time (counted from the lateness histogram, so to
 *               its bucket width of 1/16);
 *   lateness    p50, p99 and max of submitted - scheduled, in ms: the
 *               in-process generator's own (child.c), the HTTP engine's
 *               send lateness (http_load.c);
 *   behind      true when more than LB_LOAD_BEHIND_SHARE of the scheduled
 *               arrivals were late or never submitted.
 *
 * A closed load (N clients in a loop) has no schedule to fall behind.
 */
#ifndef LEAKBENCH_LOAD_SCHEDULE_H
#define LEAKBENCH_LOAD_SCHEDULE_H

#include "histogram.h"
#include "metrics.h"
#include "core/spec.h"

#include <stdbool.h>
#include <stdint.h>

#define LB_LOAD_LATE_MS      100.0 /* an arrival later than this is late */
#define LB_LOAD_BEHIND_SHARE 0.01  /* behind: more than 1% late or missing */

typedef struct lb_load_schedule {
    bool active; /* an open load: the fields below mean something */
    int64_t scheduled, submitted, on_time;
    lb_latency lateness; /* ms; p50, p99 and max are reported */
    bool behind;
} lb_load_schedule;

/* The arrivals of SPEC's open load for SEED with an offset before
 * UNTIL_MS (and before the load's end). */
int64_t lb_arrivals_due(const lb_scenario_spec *spec, uint64_t seed, double until_ms);

/* The verdict on counts alone: more than LB_LOAD_BEHIND_SHARE of
 * SCHEDULED arrivals were not submitted on time. */
bool lb_load_behind(int64_t scheduled, int64_t on_time);

/* Fills *out for a finished run of SPEC with SEED: LATENESS is the
 * generator's histogram (us), SUBMITTED its count, and the load ran for
 * LOAD_RAN_MS (from the start of the load to its end or to where the run
 * stopped).  A closed load leaves out->active false. */
void lb_load_schedule_measure(const lb_scenario_spec *spec, uint64_t seed,
                              const lb_histogram *lateness, int64_t submitted, double load_ran_ms,
                              lb_load_schedule *out);

#endif
