/*
 * child.h — what runs inside a run's child process.
 *
 * The child starts the runtime on the spec's scheduler with its counters
 * in the shared page, builds the variant's pipeline and drives it through
 * the phases ready, load, settle, shutdown and exit (README "How a run is measured",
 * "A run, phase by phase"), recording request outcomes, latencies, phase times
 * and finally the grouped leak report in the shared page.  It never
 * returns: it _exits, which is how leaked tasks get "restarted".
 */
#ifndef LEAKBENCH_CHILD_H
#define LEAKBENCH_CHILD_H

#include "shared.h"
#include "core/spec.h"

#include <stdbool.h>

/* Exit statuses of the child. */
#define LB_CHILD_EXIT_OK     0
#define LB_CHILD_EXIT_FAILED 3

/* The variant's setup environment from the spec (everything but root). */
void lb_env_from_spec(const lb_scenario_spec *spec, uint64_t seed, lb_env *env);

/* The seed of repetition rep: the same for both variants of a rep. */
uint64_t lb_rep_seed(const lb_scenario_spec *spec, int rep);

/* How long the ready phase holds still for baseline samples:
 * 5 x sample_ms, within 50 ms - 2 s. */
double lb_ready_hold_ms(const lb_scenario_spec *s);

/* listen_fd >= 0: an HTTP run (spec->http.transport), whose child serves
 * the variant on that listening socket (see child.c) while a load
 * process (http_load_run.h) sends the requests. */
__attribute__((noreturn)) void lb_child_main(const lb_scenario_spec *spec, bool leaky, int rep,
                                             int listen_fd, lb_shared *sh);

#endif
