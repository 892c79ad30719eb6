/*
 * http_serve.h — one built-in pair's variant served over HTTP/1.1 on
 * leakbench's runtime (`leakbench serve`, and the run child when a spec
 * asks for HTTP transport).
 *
 * lb_serve_run starts the runtime on the spec's scheduler (its counters in
 * c->shared->rt when a shared page is given), builds the variant's
 * pipeline (variant.setup with the spec's pool_size, queue_capacity,
 * payload_bytes, knobs and seed), and serves on c->listen_fd: one accept
 * task, one task per connection, keep-alive, requests parsed by llhttp.
 * Every request to /work runs variant.handle in its own task with a
 * context that is cancelled when the client closes its connection (as
 * Go's r.Context() is): the connection task keeps watching the socket for
 * EOF/RST while the handler runs.  A cancelled request gets no reply (its
 * connection is gone).
 *
 * Routes (README, "leakbench serve"):
 *   GET /work?service_ms=N&payload=BYTES&error=0|1&seq=N&rep=N[&deadline_ms=N]
 *        every parameter optional: service_ms (the work's duration, ms,
 *        fractions allowed) defaults to a draw from the spec's
 *        service_time, payload (bytes the worker holds) to its
 *        payload_bytes, error (1: the pipeline fails the request) to a draw
 *        with its error_rate; seq and rep seed the request's random number
 *        (seq is also its id); deadline_ms, if given, is a server-side
 *        deadline on the handler's context (none by default, as with Go's
 *        r.Context()).  Other parameters are ignored; a known one that is
 *        not a non-negative number (error: 0 or 1) is a 400.  Any method is
 *        accepted and a body is read and ignored.
 *        200 "ok" completed, 500 failed, 503 rejected (backpressure), 504
 *        the server-side deadline passed; the client gone or the server
 *        stopping: no reply, the connection is closed.
 *   GET /metrics       Prometheus text format: leakbench_live_tasks,
 *                      leakbench_blocked_tasks{op="send"} (one per rt_op),
 *                      leakbench_requests_total{outcome="completed"} (one
 *                      per lb_outcome), leakbench_requests_in_flight,
 *                      leakbench_client_disconnects_total,
 *                      leakbench_connections_open, leakbench_connections_total,
 *                      leakbench_tasks_spawned_total, leakbench_rss_bytes,
 *                      leakbench_os_threads, leakbench_info.
 *   GET /debug/leaks   the runtime's task snapshot grouped by blocking
 *                      operation and site (leakreport.c), as the "leaks"
 *                      object of results.json.
 *   GET /healthz       200 "ok".
 *   GET /status/503    503 (for the load engine's accounting tests).
 *   GET /reset         no reply: the connection is reset (SO_LINGER 0).
 *   anything else      404; a malformed request gets 400 and the
 *                      connection is closed; a request head over 64 KiB 431.
 *
 * Stopping.  SIGTERM, SIGINT or lb_serve_request_stop().  lb_serve_run
 * blocks both signals in the calling thread before it starts the runtime
 * (every runtime thread inherits the block) and reads them from a
 * signalfd in a task of its own, so no signal handler runs and no thread
 * can take a signal's default action; a signal the process ignores stays
 * ignored.  Call it before the process starts other threads, or with both
 * signals blocked in them.  Signals still pending when it returns are
 * consumed, and the caller's mask is restored.  A caller that blocks
 * SIGTERM/SIGINT before it announces readiness (cmd_serve.c does) loses
 * no stop sent right after: it waits in the signalfd.  On a stop the
 * server stops accepting and closes the listening socket, cancels the
 * root context (every connection and request context descends from it;
 * the variant's env.root is it too), waits until every connection and
 * handler task has ended, calls variant.shutdown, and waits until no task
 * but its own main task is live — both waits together bounded by the
 * spec's shutdown_grace_ms, as in a built-in run's shutdown phase.  Tasks
 * still live then are the leak: they are counted in c->summary and, when a
 * shared page is given, grouped into c->shared->leaks (written before
 * lb_serve_run returns).  Leaked tasks stay blocked until the process
 * exits; a process calls lb_serve_run once.
 *
 * The server writes nothing to stdout or stderr and does not touch the
 * shared page's phase, request counters or histogram (the load engine
 * owns those); it counts its own outcomes for /metrics.
 */
#ifndef LEAKBENCH_HTTP_SERVE_H
#define LEAKBENCH_HTTP_SERVE_H

#include "core/spec.h"
#include "shared.h"

#include <stdbool.h>
#include <stdint.h>

/* What lb_serve_run reports about its end. */
typedef struct lb_serve_summary {
    int64_t requests;                  /* /work requests dispatched to the variant */
    int64_t outcome[LB_OUTCOME_COUNT]; /* by outcome, as the handler returned it */
    int64_t connections;               /* accepted in total */
    int64_t tasks_left; /* live tasks besides lb_serve_run's own after the grace: leaked */
    bool drained;       /* tasks_left == 0 */
    double shutdown_ms; /* from the stop request until drained, or the grace when not */
} lb_serve_summary;

typedef struct lb_serve_config {
    /* Scenario, knobs, scheduler, pool_size, queue_capacity, payload_bytes,
     * service_time and error_rate (defaults of /work parameters),
     * shutdown_grace_ms and seed (the variant's env.seed and the runtime's;
     * for a repetition pass a copy whose seed is lb_rep_seed's). */
    const lb_scenario_spec *spec;
    bool leaky;        /* which variant of spec->scenario */
    int listen_fd;     /* bound, listening socket (TCP or Unix); owned by the server from now
                        * on (made non-blocking, closed on return, also on error) */
    lb_shared *shared; /* the run's shared page (runtime counters, final leak report), or NULL */
    lb_serve_summary *summary; /* filled before returning 0, or NULL */
} lb_serve_config;

/*
 * Serves until SIGTERM/SIGINT or lb_serve_request_stop(), then shuts down
 * as described above.  0 (also when tasks were left: see summary), or
 * -EINVAL (no spec or scenario, bad fd), -ENOMEM, -EIO (variant.setup
 * failed), or rt_run's error (the scheduler could not start).
 */
int lb_serve_run(const lb_serve_config *c);

/* Asks a running lb_serve_run to stop.  Async-signal-safe; a no-op when no
 * server runs; a stop requested before lb_serve_run starts is not kept. */
void lb_serve_request_stop(void);

#endif
