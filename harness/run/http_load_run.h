/*
 * http_load_run.h — the load process of a run over HTTP.
 *
 * An HTTP run (spec "transport": "http") has two processes besides the
 * parent: the child that serves the variant (child.c, lb_serve_run) or no
 * child at all for a target that already listens ("url"), and this load
 * process, which runs the HTTP load engine (http_load.h) and drives the
 * run's phases in the shared page, so the parent's sampling loop and every
 * metric work as for an in-process run:
 *   ready     the server answers GET /healthz (polled every 10 ms, for up
 *             to LB_HTTP_READY_TIMEOUT_MS); then the usual hold for
 *             baseline samples and the idle live-task count;
 *   load      the engine sends the spec's load; at the load's end it
 *             marks settle while the last requests finish or time out;
 *   settle    the engine's connections are closed as soon as its last
 *             request has ended; requests still unanswered at the end of
 *             settle are cancelled;
 *   shutdown  SIGTERM to the server (its own shutdown: cancel the root,
 *             wait for tasks up to the grace), which then reports leaks
 *             and the exit phase.  For a url target this process
 *             publishes the exit phase itself.
 * It exits 0 when it got that far, 3 with sh->child_error = LB_CHILD_LOAD
 * and a message in sh->load_error otherwise.
 */
#ifndef LEAKBENCH_HTTP_LOAD_RUN_H
#define LEAKBENCH_HTTP_LOAD_RUN_H

#include "http_load.h"
#include "shared.h"
#include "core/spec.h"

#include <sys/types.h>

#define LB_HTTP_READY_TIMEOUT_MS 10000

typedef struct lb_http_run {
    const lb_scenario_spec *spec;
    int rep;
    lb_shared *sh;
    lb_http_target target;
    pid_t server; /* the serving child, or 0 for a url target */
} lb_http_run;

__attribute__((noreturn)) void lb_http_load_process_main(const lb_http_run *r);

#endif
