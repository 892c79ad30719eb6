/*
 * target_runner.c — a spec's target variant run through lb_target_run
 * with the HTTP load engine as its load (target_runner.h).
 *
 * How it works: the variant spec becomes an lb_target_run_config (argv,
 * environment, probe labels built into this run's own arrays); the load
 * hook forks the load process when the target is ready — it runs the
 * engine against 127.0.0.1:port into a shared page (shared.h), exactly as
 * an HTTP run's load process does, and exits when every request has
 * ended; done() reaps it, stop() kills it.  After the run, the target's
 * series, watch and phases and the page's outcomes and latency go through
 * lb_metrics_finish like a built-in run's.
 */
#include "target_runner.h"

#include "child.h"
#include "http_get.h"
#include "http_load.h"
#include "target_run.h"
#include "core/infile.h"
#include "runtime/rt.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void lb_target_log_path(char *buf, size_t n, const char *dir, const lb_scenario_spec *spec,
                        bool leaky, int rep, const char *stream)
{
    snprintf(buf, n, "%s/%s-%s-rep%d-%s.log", dir, spec->name, leaky ? "leaky" : "graceful", rep,
             stream);
}

/* ------------------------------------------------------------ the load -- */

typedef struct engine_load {
    const lb_scenario_spec *spec;
    int rep;
    lb_shared *sh;
    pid_t pid;
    int status;
    bool reaped;
    struct rusage usage;
} engine_load;

static __attribute__((noreturn)) void load_process(engine_load *l, const lb_target *t)
{
    lb_shared *sh = l->sh;
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(LB_CHILD_EXIT_FAILED);
    lb_netaddr addr;
    char err[256];
    if (lb_netaddr_parse(t->host, &addr, err, sizeof err)) {
        snprintf(sh->load_error, sizeof sh->load_error, "target address %s: %.180s", t->host, err);
        _exit(LB_CHILD_EXIT_FAILED);
    }
    lb_http_target target;
    lb_http_target_init(&target, &addr);
    lb_shared_enter_phase(sh, LB_PHASE_LOAD);
    lb_http_load_config cfg = {l->spec, l->rep, lb_rep_seed(l->spec, l->rep), target, rt_now(), 0,
                               NULL,    NULL};
    lb_http_load *engine;
    int rc = lb_http_load_new(&cfg, &engine, err, sizeof err);
    if (rc) {
        snprintf(sh->load_error, sizeof sh->load_error, "load engine: %.230s", err);
        _exit(LB_CHILD_EXIT_FAILED);
    }
    rc = lb_http_load_run(engine, sh);
    lb_http_load_free(engine);
    if (rc) {
        snprintf(sh->load_error, sizeof sh->load_error, "load engine: %s", strerror(-rc));
        _exit(LB_CHILD_EXIT_FAILED);
    }
    _exit(LB_CHILD_EXIT_OK);
}

static int load_start(void *arg, const lb_target *t)
{
    engine_load *l = arg;
    fflush(stdout);
    fflush(stderr);
    l->pid = fork();
    if (l->pid < 0) return -errno;
    if (l->pid == 0) load_process(l, t);
    return 0;
}

static void load_reap(engine_load *l, bool wait)
{
    if (!l->pid || l->reaped) return;
    pid_t w;
    while ((w = wait4(l->pid, &l->status, wait ? 0 : WNOHANG, &l->usage)) < 0 && errno == EINTR) {
    }
    l->reaped = w == l->pid;
}

static bool load_done(void *arg)
{
    engine_load *l = arg;
    load_reap(l, false);
    return l->reaped;
}

static void load_stop(void *arg)
{
    engine_load *l = arg;
    if (!l->pid || l->reaped) return;
    kill(l->pid, SIGKILL);
    load_reap(l, true);
}

/* ------------------------------------- a leakbench serve target's leaks -- */

/*
 * A target read by the prometheus probe on leakbench_live_tasks is
 * `leakbench serve` (or speaks its protocol): its leak report is its own
 * GET /debug/leaks, taken when the target is ready and at the end of
 * settle; what the second holds beyond the first (the server's own tasks)
 * is the report.
 */
typedef struct serve_leaks {
    bool wanted;
    int timeout_ms;
    lb_leak_report at[2]; /* ready, end of settle */
    bool have[2];
    char error[256];
} serve_leaks;

static void serve_snapshot(void *arg, const lb_target *t, lb_phase at)
{
    serve_leaks *s = arg;
    int k = at == LB_PHASE_READY ? 0 : 1;
    lb_http_response resp;
    int rc = lb_http_get((const struct sockaddr *)&t->addr, t->addr_len, t->host, "/debug/leaks",
                         s->timeout_ms, 16u << 20, &resp, s->error, sizeof s->error);
    if (rc) return;
    json_error_t je;
    json_t *j = resp.status == 200 ? json_loadb(resp.body, resp.body_len, 0, &je) : NULL;
    if (j && lb_leak_report_from_json(j, &s->at[k]) == 0)
        s->have[k] = true;
    else
        snprintf(s->error, sizeof s->error, "GET /debug/leaks: %s",
                 resp.status != 200 ? "not 200"
                 : j                ? "not a leak report"
                                    : je.text);
    json_decref(j);
    lb_http_response_free(&resp);
}

/* The run's progress callback, per sample (lb_run_options.progress). */
typedef struct progress_hook {
    const lb_run_options *opt;
    const lb_run_result *run;
} progress_hook;

static void on_sample(void *arg, const lb_sample *s)
{
    const progress_hook *h = arg;
    h->opt->progress(h->opt->progress_arg, h->run, s);
}

/* ---------------------------------------------------------- the result -- */

/* The last lines of a log file (at most n - 1 bytes, on one line with
 * " | " between lines), or "" when it is empty or unreadable. */
static void log_tail(const char *path, char *out, size_t n)
{
    char *text = NULL, why[256];
    size_t len = 0;
    out[0] = 0;
    if (!path || lb_read_file(path, 2 * LB_TARGET_LOG_CAP, &text, &len, why, sizeof why)) return;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--;
    size_t want = n > 8 ? n - 8 : 0, start = len > want ? len - want : 0;
    while (start > 0 && start < len && text[start - 1] != '\n') start++;
    size_t used = 0;
    for (size_t i = start; i < len && used + 4 < n; i++) {
        if (text[i] == '\n') {
            memcpy(out + used, " | ", 3);
            used += 3;
        } else if ((unsigned char)text[i] >= 0x20 || text[i] == '\t') {
            out[used++] = text[i];
        }
    }
    out[used] = 0;
    free(text);
}

static void fill_guard(const lb_target_run_result *r, const lb_guards *limits, lb_run_result *out)
{
    const lb_sample *last = r->watch.have_last ? &r->watch.last : NULL;
    double at_s = last ? last->t_s : 0;
    out->guard_fired = true;
    out->status = LB_RUN_GUARD_KILLED;
    if (r->end == LB_TARGET_END_GUARD)
        out->guard = (lb_guard_event){"memory", at_s, last ? (double)last->rss_bytes : NAN,
                                      (double)limits->memory_bytes};
    else if (r->end == LB_TARGET_END_TASK_GUARD)
        out->guard = (lb_guard_event){"tasks", at_s, last ? (double)last->tasks : NAN,
                                      (double)limits->tasks};
    else
        out->guard = (lb_guard_event){"wall", at_s, at_s * 1000, limits->wall_ms};
}

static void fill_status(const lb_target_run_result *r, const lb_guards *limits,
                        const char *stderr_path, lb_run_result *out)
{
    switch (r->end) {
    case LB_TARGET_END_COMPLETE:
        out->status = LB_RUN_COMPLETED;
        return;
    case LB_TARGET_END_GUARD:
    case LB_TARGET_END_TASK_GUARD:
    case LB_TARGET_END_WALL:
        fill_guard(r, limits, out);
        return;
    case LB_TARGET_END_INTERRUPTED:
        out->status = LB_RUN_INTERRUPTED;
        return;
    default:
        break;
    }
    out->status = LB_RUN_TARGET_FAILED;
    char tail[400];
    log_tail(stderr_path, tail, sizeof tail);
    const char *what = r->end == LB_TARGET_END_START_FAILED ? "the target did not start"
                       : r->end == LB_TARGET_END_NOT_READY  ? "the target never got ready"
                                                            : "the target exited during the run";
    snprintf(out->error, sizeof out->error, "%s: %.300s%s%s", what, r->error,
             tail[0] ? "; its stderr ends: " : "", tail);
}

static void fill_metrics(const lb_target_run_config *c, const lb_target_run_result *r,
                         const lb_shared *sh, lb_run_result *out)
{
    double shutdown_ms = r->shutdown.outcome == LB_SHUTDOWN_EXITED ? r->shutdown.shutdown_ms : NAN;
    lb_metrics *m = &out->metrics;
    lb_metrics_finish(&r->watch, &r->series, &r->phases, sh, false, shutdown_ms, m);
    bool settled = r->end == LB_TARGET_END_COMPLETE;
    m->leaked_tasks = NAN;
    if (c->probe.kind == LB_PROBE_NONE || r->baseline_tasks < 0) {
        /* No live-task reading: unmeasured, not the -1 of "no reading". */
        m->baseline_tasks = m->peak_tasks = m->final_tasks = m->task_slope = NAN;
        m->recovered = false;
        m->recovery_ms = NAN;
    } else if (settled && r->watch.have_last && r->watch.last.tasks >= 0) {
        double above = (double)(r->watch.last.tasks - r->baseline_tasks);
        m->leaked_tasks = above > 0 ? above : 0;
    }
    /* The tree's CPU is sampled as user + system together (the samples'
     * cpu_s); the split is not known, so neither metric is made up. */
    m->cpu_user_s = m->cpu_sys_s = NAN;
}

static void fill_sampler(const lb_target_run_result *r, double interval_ms, lb_run_result *out)
{
    out->sampler.interval_ms = interval_ms;
    lb_hist_reset(&out->sampler.lateness);
    out->sampler.ticks = (int64_t)r->series.ticks;
    for (size_t i = 0; i < r->series.n; i++) { /* the stored samples: all but when decimated */
        double late = r->series.rows[i].lateness_ms;
        lb_hist_record_us(&out->sampler.lateness, late > 0 ? (uint64_t)(late * 1000) : 0);
    }
}

/* ------------------------------------------------------------- the run -- */

int lb_run_target(const lb_scenario_spec *spec, bool leaky, int rep, const lb_guards *limits,
                  const lb_run_options *opt, lb_run_result *out)
{
    memset(out, 0, sizeof *out);
    out->spec = spec;
    out->leaky = leaky;
    out->rep = rep;
    out->limits = *limits;
    for (int p = 0; p < LB_PHASE_COUNT; p++) out->phases.at_s[p] = NAN;
    const lb_target_variant_spec *v = leaky ? &spec->target.leaky : &spec->target.graceful;
    const char *argv[LB_TARGET_MAX_ARGS + 1], *env[LB_TARGET_MAX_ENV + 1];
    lb_target_variant_argv(v, argv);
    lb_target_variant_env(v, env);
    /* A program named by a relative path is found from leakbench's own
     * directory, as typed in its shell, even when the target runs in cwd. */
    char program[4200], here[4096];
    if (v->cwd[0] && argv[0][0] != '/' && strchr(argv[0], '/') && getcwd(here, sizeof here)) {
        snprintf(program, sizeof program, "%s/%s", here, argv[0]);
        argv[0] = program;
    }
    char labels[1024], out_path[4200], err_path[4200];
    lb_target_variant_labels(v, labels, sizeof labels); /* validated to fit when loaded */
    const char *dir = opt->log_dir;
    if (dir) {
        lb_target_log_path(out_path, sizeof out_path, dir, spec, leaky, rep, "stdout");
        lb_target_log_path(err_path, sizeof err_path, dir, spec, leaky, rep, "stderr");
    }
    lb_shared *sh = lb_shared_map();
    if (!sh) return -ENOMEM;
    engine_load load = {spec, rep, sh, 0, 0, false, {{0}}};
    lb_target_run_config c = {
        .target = {argv, v->cwd[0] ? v->cwd : NULL, env, v->port, dir ? out_path : NULL,
                   dir ? err_path : NULL, 0, limits->memory_bytes, false},
        .ready = v->ready,
        .ready_path = v->ready_path[0] ? v->ready_path : NULL,
        .ready_timeout_ms = v->ready_timeout_ms,
        .probe = {v->probe, v->probe_path[0] ? v->probe_path : NULL,
                  v->probe_metric[0] ? v->probe_metric : NULL, labels[0] ? labels : NULL,
                  v->probe_timeout_ms, 0},
        .probe_ms = v->probe_interval_ms,
        .sample_ms = (int)spec->sample_ms,
        .settle_ms = (int)spec->settle_ms,
        .shutdown_signal = v->shutdown_signal,
        .shutdown_grace_ms = v->shutdown_grace_ms,
        .wall_ms = (int)limits->wall_ms,
        .tasks_limit = limits->tasks,
        .interrupted = &lb_interrupted,
        .load = {load_start, load_done, load_stop, &load},
    };
    static serve_leaks serve; /* two reports of 32 groups: not on the stack */
    memset(&serve, 0, sizeof serve);
    serve.wanted =
        v->probe == LB_PROBE_PROMETHEUS && !strcmp(v->probe_metric, "leakbench_live_tasks");
    serve.timeout_ms = v->probe_timeout_ms;
    if (serve.wanted) {
        c.snapshot = serve_snapshot;
        c.snapshot_arg = &serve;
    }
    progress_hook progress = {opt, out};
    if (opt->progress) {
        c.on_sample = on_sample;
        c.on_sample_arg = &progress;
    }
    double cpu_before = lb_parent_cpu_s();
    lb_target_run_result r;
    int rc = lb_target_run(&c, &r);
    load_stop(&load); /* whatever ended the run, the load process is gone now */
    if (rc) {
        lb_shared_unmap(sh);
        return rc;
    }
    out->sampler.cpu_s = lb_parent_cpu_s() - cpu_before;
    out->phases = r.phases;
    fill_status(&r, limits, dir ? err_path : NULL, out);
    if (out->status == LB_RUN_COMPLETED && load.reaped &&
        !(WIFEXITED(load.status) && WEXITSTATUS(load.status) == LB_CHILD_EXIT_OK)) {
        out->status = LB_RUN_CRASHED; /* leakbench's side failed, not the target */
        snprintf(out->error, sizeof out->error, "the HTTP load process failed: %s",
                 sh->load_error[0] ? sh->load_error : "no reason given");
    }
    if (r.shutdown.main_exited) {
        if (WIFEXITED(r.shutdown.main_status)) out->exit_code = WEXITSTATUS(r.shutdown.main_status);
        if (WIFSIGNALED(r.shutdown.main_status))
            out->exit_signal = WTERMSIG(r.shutdown.main_status);
    }
    fill_metrics(&c, &r, sh, out);
    fill_sampler(&r, spec->sample_ms, out);
    out->accounting = lb_accounting_of(sh);
    if (r.has_leaks) {
        out->has_leaks = true;
        out->leaks = r.leaks;
    } else if (serve.have[0] && serve.have[1]) {
        out->has_leaks = true;
        out->leaks = serve.at[1];
        lb_leak_report_subtract(&out->leaks, &serve.at[0]);
    }
    lb_run_http_result(sh, load.reaped ? &load.usage : NULL, out);
    lb_run_schedule_result(sh, NAN, out);
    out->target = lb_target_run_json(&c, &r);
    out->series = r.series; /* moved: out frees it */
    lb_shared_unmap(sh);
    return out->target ? 0 : (lb_run_result_free(out), -ENOMEM);
}
