/*
 * target_run.c — the phases of an external target's run (target_run.h).
 *
 * How it works: after start and ready, one loop ticks on an absolute
 * schedule (clock_nanosleep to start + k * sample_ms; a tick that ends
 * past the next one skips the ticks it missed).  On each tick: poll
 * the target (tree sample, guards), take a probe reading when its
 * interval is due, record the sample (lb_series, lb_watch), and advance
 * the phase — load until load.done(), settle until settle_ms after the
 * load ended.  Then the final snapshot, then shutdown.  Times are seconds
 * since the target was started.
 */
#include "target_run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *lb_target_end_name(lb_target_end e)
{
    static const char *const names[] = {"complete",   "start failed", "not ready",
                                        "died",       "memory guard", "wall guard",
                                        "task guard", "interrupted"};
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "unknown";
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_until_ms(double t_ms)
{
    struct timespec ts = {(time_t)(t_ms / 1e3), (long)(fmod(t_ms, 1e3) * 1e6)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) continue;
}

/* Costs and latenesses of the probe readings, for their medians. */
typedef struct probe_log {
    double *cost, *late;
    size_t n, cap;
} probe_log;

static int probe_log_add(probe_log *l, double cost, double late)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        double *c = realloc(l->cost, cap * sizeof *c);
        if (!c) return -ENOMEM;
        l->cost = c;
        double *d = realloc(l->late, cap * sizeof *d);
        if (!d) return -ENOMEM;
        l->late = d;
        l->cap = cap;
    }
    l->cost[l->n] = cost;
    l->late[l->n] = late;
    l->n++;
    return 0;
}

static double max_of(const double *v, size_t n)
{
    double m = NAN;
    for (size_t i = 0; i < n; i++)
        if (isnan(m) || v[i] > m) m = v[i];
    return m;
}

/* The state of one run while it goes. */
typedef struct run_state {
    const lb_target_run_config *c;
    lb_target_run_result *out;
    lb_target t;
    double t0_ms;
    lb_go_series go;
    probe_log plog;
    int64_t tasks; /* the last probe reading, -1 before one */
    const char *own_dir;
    lb_http_conn probe_conn; /* the probe's kept connection (http_get.h says why) */
} run_state;

/* One probe reading at the scheduled time due_ms. */
static int take_probe(run_state *st, double due_ms, double t_s)
{
    lb_probe_target pt = {(struct sockaddr *)&st->t.addr,
                          st->t.addr_len,
                          st->t.host,
                          st->t.pid,
                          st->t.pid,
                          st->t.cgroup.kind ? st->t.cgroup.procs : NULL,
                          &st->probe_conn};
    double late = mono_ms() - due_ms;
    lb_probe_reading r;
    int rc = lb_probe_read(&st->c->probe, &pt, &r);
    lb_probe_stats *ps = &st->out->probe;
    ps->readings++;
    if (rc == 0) {
        st->tasks = (int64_t)r.tasks;
        if (st->c->probe.kind == LB_PROBE_GO_PPROF &&
            lb_go_series_add(&st->go, &r.profile, t_s, st->own_dir) < 0) {
            lb_probe_reading_free(&r);
            return -ENOMEM;
        }
    } else {
        ps->failed++;
        snprintf(ps->last_error, sizeof ps->last_error, "%s", r.error);
    }
    lb_probe_reading_free(&r);
    return probe_log_add(&st->plog, r.cost_ms, late > 0 ? late : 0);
}

static void record(run_state *st, lb_phase phase, double due_ms, const lb_proctree_sample *ps)
{
    lb_sample s;
    memset(&s, 0, sizeof s);
    double now = mono_ms();
    s.t_s = (now - st->t0_ms) / 1e3;
    s.phase = (int)phase;
    s.tasks = st->tasks;
    s.rss_bytes = ps->rss_bytes;
    s.threads = ps->threads;
    s.cpu_s = ps->cpu_s;
    s.lateness_ms = now - due_ms > 0 ? now - due_ms : 0;
    lb_series_add(&st->out->series, &s);
    lb_watch_observe(&st->out->watch, &s, st->out->baseline_tasks);
    if (st->c->on_sample) st->c->on_sample(st->c->on_sample_arg, &s);
}

static void mark_phase(run_state *st, lb_phase p)
{
    st->out->phases.at_s[p] = (mono_ms() - st->t0_ms) / 1e3;
}

/* The loop of load and settle; returns how the run continues. */
static lb_target_end run_loop(run_state *st)
{
    const lb_target_run_config *c = st->c;
    int sample_ms = c->sample_ms > 0 ? c->sample_ms : 10;
    int probe_ms = c->probe_ms > 0 ? c->probe_ms : sample_ms;
    bool probing = c->probe.kind != LB_PROBE_NONE;
    lb_phase phase = LB_PHASE_LOAD;
    mark_phase(st, LB_PHASE_LOAD);
    if (c->load.start && c->load.start(c->load.arg, &st->t) < 0) {
        snprintf(st->out->error, sizeof st->out->error, "the load could not be started");
        return LB_TARGET_END_DIED;
    }
    double start = mono_ms(), next_probe = start, settle_end = 0;
    for (uint64_t k = 1;; k++) {
        double due = start + (double)k * sample_ms;
        sleep_until_ms(due);
        lb_proctree_sample ps;
        int alive = lb_target_poll(&st->t, &ps);
        if (probing && mono_ms() >= next_probe) {
            if (take_probe(st, next_probe, (mono_ms() - st->t0_ms) / 1e3) < 0)
                return LB_TARGET_END_DIED;
            while (next_probe <= mono_ms()) next_probe += probe_ms;
        }
        record(st, phase, due, &ps);
        /* Past the next tick already (a slow probe, a loaded machine):
         * skip the ticks missed, as the built-in sampler does, so one late
         * sample stays one, not a lateness every later sample inherits. */
        double behind = mono_ms() - due;
        if (behind > sample_ms) k += (uint64_t)(behind / sample_ms);
        bool over_tasks = c->tasks_limit > 0 && st->tasks > c->tasks_limit;
        bool interrupted = c->interrupted && *c->interrupted;
        if (st->t.guard_fired || alive <= 0 || over_tasks || interrupted ||
            (c->wall_ms > 0 && mono_ms() - st->t0_ms > c->wall_ms)) {
            if (c->load.stop && phase == LB_PHASE_LOAD) c->load.stop(c->load.arg);
            if (st->t.guard_fired) return LB_TARGET_END_GUARD;
            if (interrupted) {
                snprintf(st->out->error, sizeof st->out->error, "interrupted");
                return LB_TARGET_END_INTERRUPTED;
            }
            if (over_tasks && alive > 0) {
                snprintf(st->out->guard_reason, sizeof st->out->guard_reason,
                         "tasks %lld > limit %lld", (long long)st->tasks,
                         (long long)c->tasks_limit);
                snprintf(st->out->error, sizeof st->out->error, "task guard: %s",
                         st->out->guard_reason);
                return LB_TARGET_END_TASK_GUARD;
            }
            if (alive <= 0) {
                char status[64] = "status unknown";
                if (st->t.main_exited)
                    lb_wait_status_text(st->t.main_status, status, sizeof status);
                snprintf(st->out->error, sizeof st->out->error, "the target exited during %s (%s)",
                         lb_phase_name(phase), status);
                return LB_TARGET_END_DIED;
            }
            snprintf(st->out->error, sizeof st->out->error, "wall guard: %d ms", c->wall_ms);
            return LB_TARGET_END_WALL;
        }
        if (phase == LB_PHASE_LOAD && (!c->load.done || c->load.done(c->load.arg))) {
            phase = LB_PHASE_SETTLE;
            mark_phase(st, LB_PHASE_SETTLE);
            settle_end = mono_ms() + c->settle_ms;
        } else if (phase == LB_PHASE_SETTLE && mono_ms() >= settle_end) {
            return LB_TARGET_END_COMPLETE;
        }
    }
}

/* The debug=2 snapshot at the end of settle, grouped into the report. */
static void final_snapshot(run_state *st)
{
    lb_probe_config pc = st->c->probe;
    pc.path = LB_PROBE_GO_PPROF_FULL_PATH;
    lb_probe_target pt = {(struct sockaddr *)&st->t.addr,
                          st->t.addr_len,
                          st->t.host,
                          st->t.pid,
                          st->t.pid,
                          NULL,
                          &st->probe_conn};
    lb_probe_reading r;
    if (lb_probe_read(&pc, &pt, &r) == 0 &&
        lb_go_leak_report(&r.profile, &st->go, st->own_dir, &st->out->leaks) == 0)
        st->out->has_leaks = true;
    else
        snprintf(st->out->probe.last_error, sizeof st->out->probe.last_error,
                 "final goroutine snapshot: %s", r.error);
    lb_probe_reading_free(&r);
}

/* lb_target_wait_ready in slices of at most 250 ms, so an interrupt ends
 * the wait within one: 0, -EINTR, or its error (with the whole timeout in
 * the message). */
static int wait_ready(run_state *st)
{
    const lb_target_run_config *c = st->c;
    int timeout = c->ready_timeout_ms > 0 ? c->ready_timeout_ms : 10000;
    double deadline = mono_ms() + timeout;
    for (;;) {
        if (c->interrupted && *c->interrupted) return -EINTR;
        double left = deadline - mono_ms();
        int slice = left > 250 ? 250 : left > 1 ? (int)left : 1;
        int rc = lb_target_wait_ready(&st->t, c->ready, c->ready_path, slice, &st->out->ready_ms,
                                      st->out->error, sizeof st->out->error);
        if (rc != -ETIMEDOUT) return rc;
        if (mono_ms() >= deadline) {
            /* "not ready after 250 ms: why" -> the whole timeout */
            const char *why = strstr(st->out->error, " ms: ");
            char last[sizeof st->out->error];
            snprintf(last, sizeof last, "%s", why ? why + 5 : st->out->error);
            snprintf(st->out->error, sizeof st->out->error, "not ready after %d ms: %.400s",
                     timeout, last);
            return rc;
        }
    }
}

int lb_target_run(const lb_target_run_config *c, lb_target_run_result *out)
{
    memset(out, 0, sizeof *out);
    for (int p = 0; p < LB_PHASE_COUNT; p++) out->phases.at_s[p] = NAN;
    out->ready_ms = NAN;
    out->port = -1;
    out->baseline_tasks = -1;
    out->probe.cost_ms_median = out->probe.cost_ms_max = NAN;
    out->probe.lateness_ms_median = out->probe.lateness_ms_max = NAN;
    lb_watch_init(&out->watch);
    if (lb_series_init(&out->series, LB_SERIES_DEFAULT_CAP) < 0) return -ENOMEM;
    run_state st = {c, out, {0}, mono_ms(), {0}, {0}, -1, NULL, LB_HTTP_CONN_INIT};
    static char cwd[4096];
    st.own_dir = c->own_dir ? c->own_dir : c->target.cwd ? c->target.cwd : getcwd(cwd, sizeof cwd);
    if (lb_target_start(&c->target, &st.t, out->error, sizeof out->error) < 0) {
        out->end = LB_TARGET_END_START_FAILED;
        return 0;
    }
    st.t0_ms = st.t.started_ms;
    out->port = st.t.port;
    out->phases.at_s[LB_PHASE_START] = 0;
    out->guard = st.t.guard;
    snprintf(out->guard_note, sizeof out->guard_note, "%s", st.t.guard_note);
    int rc = wait_ready(&st);
    if (rc == -EINTR) {
        out->end = LB_TARGET_END_INTERRUPTED;
        snprintf(out->error, sizeof out->error, "interrupted before the target was ready");
    } else if (rc < 0) {
        out->end = LB_TARGET_END_NOT_READY;
    } else {
        mark_phase(&st, LB_PHASE_READY);
        lb_proctree_sample ps;
        lb_target_poll(&st.t, &ps);
        double due = mono_ms();
        if (c->probe.kind != LB_PROBE_NONE) {
            if (take_probe(&st, due, out->phases.at_s[LB_PHASE_READY]) < 0) rc = -ENOMEM;
            out->baseline_tasks = st.tasks;
        }
        record(&st, LB_PHASE_READY, due, &ps);
        if (rc == 0 && c->snapshot) c->snapshot(c->snapshot_arg, &st.t, LB_PHASE_READY);
        out->end = rc < 0 ? LB_TARGET_END_DIED : run_loop(&st);
        if (out->end == LB_TARGET_END_COMPLETE && c->probe.kind == LB_PROBE_GO_PPROF)
            final_snapshot(&st);
        if (out->end == LB_TARGET_END_COMPLETE && c->snapshot)
            c->snapshot(c->snapshot_arg, &st.t, LB_PHASE_SETTLE);
    }
    if (out->end != LB_TARGET_END_TASK_GUARD)
        snprintf(out->guard_reason, sizeof out->guard_reason, "%s", st.t.guard_reason);
    mark_phase(&st, LB_PHASE_SHUTDOWN);
    lb_http_conn_close(&st.probe_conn); /* an open connection would hold a graceful shutdown */
    /* A guard or an interrupt kills, as for built-in pairs; otherwise the
     * target's own shutdown is measured. */
    bool kill_now = out->end == LB_TARGET_END_TASK_GUARD || out->end == LB_TARGET_END_WALL ||
                    out->end == LB_TARGET_END_INTERRUPTED;
    lb_target_stop(&st.t,
                   kill_now             ? SIGKILL
                   : c->shutdown_signal ? c->shutdown_signal
                                        : SIGTERM,
                   kill_now ? 0 : c->shutdown_grace_ms, &out->shutdown);
    mark_phase(&st, LB_PHASE_EXIT);
    lb_probe_stats *p = &out->probe;
    if (st.plog.n) {
        p->cost_ms_max = max_of(st.plog.cost, st.plog.n);
        p->lateness_ms_max = max_of(st.plog.late, st.plog.n);
        p->cost_ms_median = lb_median(st.plog.cost, st.plog.n);
        p->lateness_ms_median = lb_median(st.plog.late, st.plog.n);
    }
    free(st.plog.cost);
    free(st.plog.late);
    lb_go_series_free(&st.go);
    return 0;
}

void lb_target_run_result_free(lb_target_run_result *r)
{
    lb_series_free(&r->series);
}

/* ------------------------------------------------------------ results -- */

static json_t *num_or_null(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *strv_json(const char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *exit_json(const lb_target_shutdown *sd)
{
    if (!sd->main_exited) return json_null();
    char text[64];
    int st = sd->main_status;
    json_t *code = WIFEXITED(st) ? json_integer(WEXITSTATUS(st)) : json_null();
    json_t *sig = json_null();
    if (WIFSIGNALED(st)) {
        char name[32];
        sig = json_string(lb_signal_name(WTERMSIG(st), name, sizeof name));
    }
    return json_pack("{s:s, s:o, s:o}", "status", lb_wait_status_text(st, text, sizeof text),
                     "code", code, "signal", sig);
}

json_t *lb_target_run_json(const lb_target_run_config *c, const lb_target_run_result *r)
{
    const lb_probe_stats *p = &r->probe;
    const lb_probe_config *pc = &c->probe;
    const char *path = pc->path                          ? pc->path
                       : pc->kind == LB_PROBE_GO_PPROF   ? LB_PROBE_GO_PPROF_PATH
                       : pc->kind == LB_PROBE_PROMETHEUS ? LB_PROBE_PROMETHEUS_PATH
                                                         : NULL;
    bool killed = r->end == LB_TARGET_END_TASK_GUARD || r->end == LB_TARGET_END_WALL ||
                  r->end == LB_TARGET_END_INTERRUPTED;
    int sig = killed ? SIGKILL : c->shutdown_signal ? c->shutdown_signal : SIGTERM;
    char signame[32];
    lb_signal_name(sig, signame, sizeof signame);
    json_t *probe =
        json_pack("{s:s, s:o, s:o, s:o, s:i, s:I, s:I, s:{s:o, s:o}, s:{s:o, s:o}, s:o}", "kind",
                  lb_probe_kind_name(pc->kind), "path", str_or_null(path), "metric",
                  str_or_null(pc->metric), "labels", str_or_null(pc->labels), "interval_ms",
                  c->probe_ms > 0 ? c->probe_ms : (c->sample_ms > 0 ? c->sample_ms : 10),
                  "readings", (json_int_t)p->readings, "failed", (json_int_t)p->failed, "cost_ms",
                  "median", num_or_null(p->cost_ms_median), "max", num_or_null(p->cost_ms_max),
                  "lateness_ms", "median", num_or_null(p->lateness_ms_median), "max",
                  num_or_null(p->lateness_ms_max), "last_error", str_or_null(p->last_error));
    json_t *guard =
        json_pack("{s:s, s:o, s:b, s:o}", "mechanism", lb_guard_mechanism_name(r->guard), "note",
                  str_or_null(r->guard_note), "fired",
                  r->end == LB_TARGET_END_GUARD || r->end == LB_TARGET_END_TASK_GUARD, "reason",
                  str_or_null(r->guard_reason));
    json_t *shutdown = json_pack("{s:s, s:i, s:s, s:o, s:i}", "signal", signame, "grace_ms",
                                 killed ? 0 : c->shutdown_grace_ms, "outcome",
                                 lb_shutdown_outcome_name(r->shutdown.outcome), "ms",
                                 r->shutdown.outcome == LB_SHUTDOWN_ALREADY_GONE
                                     ? json_null()
                                     : num_or_null(r->shutdown.shutdown_ms),
                                 "leftover", r->shutdown.leftover);
    if (!probe || !guard || !shutdown) {
        json_decref(probe);
        json_decref(guard);
        json_decref(shutdown);
        return NULL;
    }
    return json_pack(
        "{s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "argv",
        strv_json(c->target.argv), "cwd", str_or_null(c->target.cwd), "port",
        r->port > 0 ? json_integer(r->port) : json_null(), "end", lb_target_end_name(r->end),
        "error", r->end == LB_TARGET_END_COMPLETE ? json_null() : str_or_null(r->error), "ready_ms",
        num_or_null(r->ready_ms), "baseline_tasks",
        r->baseline_tasks >= 0 ? json_integer(r->baseline_tasks) : json_null(), "probe", probe,
        "guard", guard, "exit", exit_json(&r->shutdown), "shutdown", shutdown);
}
