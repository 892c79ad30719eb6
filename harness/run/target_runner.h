/*
 * target_runner.h — one run of a spec's target variant (README "External
 * targets"), as lb_run_one does it for a scenario with "target": the
 * variant's program is started, made ready, loaded, settled and stopped by
 * lb_target_run (target_run.h), with the HTTP load engine (http_load.h) in
 * a process of its own as the load, pointed at the target's port with the
 * spec's request templates and the repetition's seed.  The result fills
 * the same lb_run_result as a built-in run, so results, table, report,
 * thresholds, compare and history read it unchanged; the run's "target"
 * object (lb_target_run_json) rides along in lb_run_result.target.
 *
 * Mapping: the run ends complete -> completed; the memory, task or wall
 * guard -> guard_killed (a result); an interrupt -> interrupted; a target
 * that cannot start, never gets ready or exits during the run ->
 * target_failed, with the reason and the tail of its stderr in the error.
 * leaked_tasks is the probe's reading at the end of settle minus the
 * baseline (not below 0); shutdown_ms the time from the signal until the
 * whole process group was gone (null when it had to be SIGKILLed).
 */
#ifndef LEAKBENCH_TARGET_RUNNER_H
#define LEAKBENCH_TARGET_RUNNER_H

#include "runner.h"

int lb_run_target(const lb_scenario_spec *spec, bool leaky, int rep, const lb_guards *limits,
                  const lb_run_options *opt, lb_run_result *out);

/* Where a target variant's output goes: DIR/NAME-VARIANT-repREP-STREAM.log
 * (STREAM "stdout" or "stderr"), into buf. */
void lb_target_log_path(char *buf, size_t n, const char *dir, const lb_scenario_spec *spec,
                        bool leaky, int rep, const char *stream);

#endif
