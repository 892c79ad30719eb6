/*
 * http_load_run.c — the load process of an HTTP run (see
 * http_load_run.h): waits for the server, holds for the baseline, runs the
 * engine, sleeps out the settle window and signals the shutdown.
 */
#include "http_load_run.h"

#include "child.h"
#include "http_get.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t at_ns)
{
    struct timespec ts = {at_ns / 1000000000LL, at_ns % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static __attribute__((noreturn, format(printf, 2, 3))) void give_up(lb_shared *sh, const char *fmt,
                                                                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sh->load_error, sizeof sh->load_error, fmt, ap);
    va_end(ap);
    atomic_store(&sh->child_error, LB_CHILD_LOAD);
    _exit(LB_CHILD_EXIT_FAILED);
}

/* Polls GET /healthz until it answers 200; gives up if the server failed. */
static void wait_for_server(const lb_http_run *r)
{
    int64_t until = mono_ns() + (int64_t)LB_HTTP_READY_TIMEOUT_MS * 1000000;
    int last = 0, status = 0;
    while (mono_ns() < until) {
        if (atomic_load(&r->sh->child_error) != LB_CHILD_OK) _exit(LB_CHILD_EXIT_OK);
        lb_http_response resp;
        char why[128];
        last = lb_http_get((const struct sockaddr *)&r->target.addr.ss, r->target.addr.len,
                           r->target.host, "/healthz", 1000, 0, &resp, why, sizeof why);
        if (last == 0) {
            status = resp.status;
            lb_http_response_free(&resp);
            if (status == 200) return;
        }
        sleep_until(mono_ns() + 10000000);
    }
    give_up(r->sh, "the server on %s did not answer GET /healthz within %d ms (last: %s)",
            r->target.host, LB_HTTP_READY_TIMEOUT_MS,
            last     ? strerror(-last)
            : status ? "a status other than 200"
                     : "no answer");
}

static void mark_settle(void *arg)
{
    lb_shared_enter_phase(arg, LB_PHASE_SETTLE);
}

void lb_http_load_process_main(const lb_http_run *r)
{
    lb_shared *sh = r->sh;
    const lb_scenario_spec *s = r->spec;
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(LB_CHILD_EXIT_FAILED);

    if (r->server) wait_for_server(r);
    lb_shared_enter_phase(sh, LB_PHASE_READY);
    sleep_until(mono_ns() + (int64_t)(lb_ready_hold_ms(s) * 1e6));
    atomic_store(&sh->ready_tasks, atomic_load(&sh->rt.live_tasks));

    lb_shared_enter_phase(sh, LB_PHASE_LOAD);
    int64_t start = atomic_load(&sh->phase_at_ns[LB_PHASE_LOAD]);
    int64_t settle_end = start + (int64_t)((s->duration_ms + s->settle_ms) * 1e6);
    lb_http_load_config cfg = {
        s, r->rep, lb_rep_seed(s, r->rep), r->target, start, settle_end, mark_settle, sh};
    lb_http_load *engine;
    char err[256];
    int rc = lb_http_load_new(&cfg, &engine, err, sizeof err);
    if (rc) give_up(sh, "load engine: %s", err);
    rc = lb_http_load_run(engine, sh);
    lb_http_load_free(engine); /* closes its connections: the server's go idle */
    if (rc) give_up(sh, "load engine: %s", strerror(-rc));

    sleep_until(settle_end);
    lb_shared_enter_phase(sh, LB_PHASE_SHUTDOWN);
    if (r->server)
        kill(r->server, SIGTERM);
    else {
        lb_shared_enter_phase(sh, LB_PHASE_EXIT); /* nothing of ours to shut down */
        lb_shared_wait_final_sample(sh);
    }
    _exit(LB_CHILD_EXIT_OK);
}
