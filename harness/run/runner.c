/*
 * runner.c — the parent side of a run: fork, sample, guard, reap (see
 * runner.h; the child side is child.c).
 *
 * The sampling loop.  Ticks are scheduled at start + k * interval on
 * CLOCK_MONOTONIC and slept to with clock_nanosleep(TIMER_ABSTIME), so
 * sampling cost and wake-up delays never accumulate into drift; a tick
 * that wakes more than an interval late skips the ticks it missed.  Per
 * tick: reap the child if it has exited (wait4, which also yields its CPU
 * times), read /proc and the shared page, feed the metrics watcher, keep
 * the sample in the bounded series, check the guards, report progress.
 * When the child publishes the exit phase the parent takes that tick as
 * the final sample and tells the child it may exit.
 */
#include "runner.h"

#include "child.h"
#include "http_load_run.h"
#include "netaddr.h"
#include "target_runner.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t lb_interrupted;

static void on_signal(int sig)
{
    lb_interrupted = sig;
}

void lb_runner_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* A closed terminal (SIGHUP) and a closed stdout (SIGPIPE: `run | head`)
     * end the run like Ctrl-C: children stopped, partial results written.
     * With SIGPIPE handled, the failed write itself just returns EPIPE. */
    const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaction(signals[i], &sa, NULL);
}

const char *lb_run_status_name(lb_run_status s)
{
    static const char *const names[] = {"completed", "guard_killed", "crashed", "interrupted",
                                        "target_failed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double process_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double lb_parent_cpu_s(void)
{
    return process_cpu_s();
}

static void read_shared(const lb_shared *sh, lb_sample *s)
{
    lb_shared *w = (lb_shared *)sh; /* atomics are read through non-const pointers */
    s->phase = atomic_load_explicit(&w->phase, memory_order_acquire);
    s->tasks = atomic_load_explicit(&w->rt.live_tasks, memory_order_relaxed);
    for (int i = 0; i < RT_OP_COUNT; i++)
        s->by_op[i] = atomic_load_explicit(&w->rt.by_op[i], memory_order_relaxed);
    s->submitted = atomic_load_explicit(&w->submitted, memory_order_relaxed);
    for (int i = 0; i < LB_OUTCOME_COUNT; i++)
        s->outcome[i] = atomic_load_explicit(&w->outcome[i], memory_order_relaxed);
}

/* Which guard, if any, the sample crosses. */
static bool check_guards(const lb_guards *g, const lb_sample *s, lb_guard_event *ev)
{
    if (g->memory_bytes > 0 && s->rss_bytes > g->memory_bytes) {
        *ev = (lb_guard_event){"memory", s->t_s, (double)s->rss_bytes, (double)g->memory_bytes};
        return true;
    }
    if (g->tasks > 0 && s->tasks > g->tasks) {
        *ev = (lb_guard_event){"tasks", s->t_s, (double)s->tasks, (double)g->tasks};
        return true;
    }
    if (g->wall_ms > 0 && s->t_s * 1000 > g->wall_ms) {
        *ev = (lb_guard_event){"wall", s->t_s, s->t_s * 1000, g->wall_ms};
        return true;
    }
    return false;
}

static void phase_times(const lb_shared *sh, int64_t start_ns, lb_phase_times *ph)
{
    for (int p = 0; p < LB_PHASE_COUNT; p++) {
        int64_t at = atomic_load(&((lb_shared *)sh)->phase_at_ns[p]);
        ph->at_s[p] = at > 0 ? (double)(at - start_ns) / 1e9 : NAN;
    }
}

static void describe_child_failure(lb_run_result *r, const lb_shared *sh)
{
    int err = atomic_load(&((lb_shared *)sh)->child_error);
    int rt_err = atomic_load(&((lb_shared *)sh)->child_rt_error);
    switch (err) {
    case LB_CHILD_RT_START:
        if (rt_err == -ENOSYS)
            snprintf(r->error, sizeof r->error,
                     "the %s scheduler is not available in this build (rt_run: %s)",
                     rt_sched_name(r->spec->scheduler), rt_strerror(rt_err));
        else
            snprintf(r->error, sizeof r->error, "the runtime did not start (rt_run: %s)",
                     rt_strerror(rt_err));
        break;
    case LB_CHILD_SETUP:
        snprintf(r->error, sizeof r->error, "%s %s: setup failed", r->spec->name,
                 r->leaky ? "leaky" : "graceful");
        break;
    case LB_CHILD_NO_MEMORY:
        snprintf(r->error, sizeof r->error, "out of memory");
        break;
    case LB_CHILD_LOAD:
        snprintf(r->error, sizeof r->error, "%s", sh->load_error);
        break;
    default:
        if (r->exit_signal)
            snprintf(r->error, sizeof r->error, "child killed by signal %d (%s)", r->exit_signal,
                     strsignal(r->exit_signal));
        else
            snprintf(r->error, sizeof r->error, "child exited with status %d", r->exit_code);
    }
}

/* ------------------------------------------------------- HTTP runs -- */

/*
 * The processes of one run.  `child` is the one the loop samples and
 * reaps: the variant with its in-process clients, the variant's HTTP
 * server, or — for a url target — the load process itself (nothing of the
 * target's is sampled then).  `load` is the HTTP load process beside a
 * server child, 0 otherwise.
 */
typedef struct run_procs {
    pid_t child, load;
    bool sample_child; /* /proc of child is the measured process */
    int listen_fd;
    char sock_dir[64]; /* a Unix listener's temporary directory, or "" */
    lb_http_target target;
    struct rusage load_usage;
    int load_status;
    bool load_reaped;
} run_procs;

/* Where an HTTP run's requests go: the spec's url, or a listening socket
 * made here for the run's own server (loopback TCP on a free port, or a
 * Unix socket in a fresh directory).  0, or -errno with err filled. */
static int http_target(const lb_scenario_spec *s, run_procs *p, char *err, size_t n)
{
    lb_netaddr addr;
    char why[256], text[128];
    if (s->http.url[0]) {
        if (lb_netaddr_parse(s->http.url, &addr, why, sizeof why)) {
            snprintf(err, n, "url '%.100s': %.140s", s->http.url, why);
            return -EINVAL;
        }
        lb_http_target_init(&p->target, &addr);
        return 0;
    }
    if (s->http.listen == LB_LISTEN_UNIX) {
        snprintf(p->sock_dir, sizeof p->sock_dir, "/tmp/leakbench-run-XXXXXX");
        if (!mkdtemp(p->sock_dir)) {
            int e = errno;
            p->sock_dir[0] = 0;
            snprintf(err, n, "cannot make a directory for the Unix socket: %s", strerror(e));
            return -e;
        }
        snprintf(text, sizeof text, "unix:%s/http.sock", p->sock_dir);
    } else {
        snprintf(text, sizeof text, "127.0.0.1:0");
    }
    int rc = lb_netaddr_parse(text, &addr, why, sizeof why);
    if (rc == 0) rc = p->listen_fd = lb_netaddr_listen(&addr, 4096);
    if (rc >= 0) rc = lb_netaddr_local(p->listen_fd, &addr);
    if (rc < 0) {
        snprintf(err, n, "cannot listen on %s: %s", text, strerror(-rc));
        return rc;
    }
    lb_http_target_init(&p->target, &addr);
    return 0;
}

static void remove_socket_dir(run_procs *p)
{
    if (!p->sock_dir[0]) return;
    char path[128];
    snprintf(path, sizeof path, "%s/http.sock", p->sock_dir);
    unlink(path);
    rmdir(p->sock_dir);
    p->sock_dir[0] = 0;
}

/* Forks the run's processes.  0, or -errno (nothing left running). */
static int start_processes(const lb_scenario_spec *spec, bool leaky, int rep, lb_shared *sh,
                           run_procs *p)
{
    bool http = spec->http.transport == LB_TRANSPORT_HTTP, url = spec->http.url[0] != 0;
    lb_http_run load = {spec, rep, sh, p->target, 0};
    p->sample_child = !(http && url);
    fflush(stdout);
    fflush(stderr);
    p->child = fork();
    if (p->child < 0) return -errno;
    if (p->child == 0) {
        if (http && url) lb_http_load_process_main(&load);
        lb_child_main(spec, leaky, rep, http ? p->listen_fd : -1, sh);
    }
    if (p->listen_fd >= 0) {
        close(p->listen_fd); /* the server child has it now */
        p->listen_fd = -1;
    }
    if (!http || url) return 0;
    load.server = p->child;
    p->load = fork();
    if (p->load < 0) {
        int e = errno;
        kill(p->child, SIGKILL);
        while (waitpid(p->child, NULL, 0) < 0 && errno == EINTR) {
        }
        return -e;
    }
    if (p->load == 0) lb_http_load_process_main(&load);
    return 0;
}

/* Reaps the load process (blocking when wait), keeping its CPU time. */
static bool reap_load(run_procs *p, bool wait)
{
    if (!p->load || p->load_reaped) return true;
    pid_t w;
    while ((w = wait4(p->load, &p->load_status, wait ? 0 : WNOHANG, &p->load_usage)) < 0 &&
           errno == EINTR) {
    }
    p->load_reaped = w == p->load;
    return p->load_reaped;
}

/* What the HTTP engine reported, for results.json. */
static void http_result(const lb_shared *sh, const run_procs *p, lb_run_result *out)
{
    lb_run_http_result(sh, p->load_reaped ? &p->load_usage : NULL, out);
}

void lb_run_http_result(const lb_shared *sh, const struct rusage *u, lb_run_result *out)
{
    lb_http_stats *h = (lb_http_stats *)&sh->http;
    if (!atomic_load(&h->active)) return;
    lb_http_run_result *r = &out->http;
    r->active = true;
    for (int c = 0; c < LB_HTTP_CAUSE_COUNT; c++) r->failed_by[c] = atomic_load(&h->failed_by[c]);
    r->connections_opened = atomic_load(&h->connections_opened);
    r->deadline_closes = atomic_load(&h->deadline_closes);
    r->waited = atomic_load(&h->waited);
    r->expired_unsent = atomic_load(&h->expired_unsent);
    r->sleeps = atomic_load(&h->sleeps);
    r->send_lateness = lb_latency_of(&h->send_lateness);
    r->connections = lb_http_connections(out->spec);
    int64_t wait_ns = atomic_load(&h->cpu_wait_ns);
    r->engine_cpu_wait_s = wait_ns >= 0 ? (double)wait_ns / 1e9 : NAN;
    r->engine_cpu_s = u ? (double)u->ru_utime.tv_sec + (double)u->ru_utime.tv_usec / 1e6 +
                              (double)u->ru_stime.tv_sec + (double)u->ru_stime.tv_usec / 1e6
                        : NAN;
}

void lb_run_schedule_result(const lb_shared *sh, double stopped_s, lb_run_result *out)
{
    double load_s = out->phases.at_s[LB_PHASE_LOAD], end_s = out->phases.at_s[LB_PHASE_SETTLE];
    if (isnan(end_s)) end_s = stopped_s;
    const lb_histogram *lateness = atomic_load(&((lb_shared *)sh)->http.active)
                                       ? &sh->http.send_lateness
                                       : &sh->arrival_lateness;
    lb_load_schedule_measure(
        out->spec, lb_rep_seed(out->spec, out->rep), lateness, out->accounting.submitted,
        isnan(load_s) || isnan(end_s) ? 0 : (end_s - load_s) * 1000, &out->schedule);
}

/* A url target's tasks and memory are not observed (no probe yet): its
 * task and RSS metrics are unmeasured, not the zeros of an empty page. */
static void forget_unobserved(lb_run_result *out)
{
    lb_metrics *m = &out->metrics;
    m->baseline_tasks = m->peak_tasks = m->final_tasks = m->leaked_tasks = NAN;
    m->baseline_rss = m->peak_rss = m->final_rss = m->peak_threads = m->rss_slope = NAN;
    m->trend = NULL;
    m->recovered = false;
    m->recovery_ms = m->shutdown_ms = NAN;
    m->cpu_user_s = m->cpu_sys_s = NAN;
    out->has_leaks = false;
}

int lb_run_one(const lb_scenario_spec *spec, bool leaky, int rep, const lb_guards *limits,
               const lb_run_options *opt, lb_run_result *out)
{
    if (spec->target.active) return lb_run_target(spec, leaky, rep, limits, opt, out);
    memset(out, 0, sizeof *out);
    out->spec = spec;
    out->leaky = leaky;
    out->rep = rep;
    out->limits = *limits;
    out->sampler.interval_ms = spec->sample_ms;
    lb_hist_reset(&out->sampler.lateness);
    for (int p = 0; p < LB_PHASE_COUNT; p++) out->phases.at_s[p] = NAN;
    int rc =
        lb_series_init(&out->series, opt->series_cap ? opt->series_cap : LB_SERIES_DEFAULT_CAP);
    if (rc) return rc;
    lb_shared *sh = lb_shared_map();
    if (!sh) {
        lb_series_free(&out->series);
        return -ENOMEM;
    }
    run_procs procs;
    memset(&procs, 0, sizeof procs);
    procs.listen_fd = -1;
    if (spec->http.transport == LB_TRANSPORT_HTTP &&
        http_target(spec, &procs, out->error, sizeof out->error)) {
        /* Recorded as the run's result, like a child that cannot start. */
        if (procs.listen_fd >= 0) close(procs.listen_fd);
        remove_socket_dir(&procs);
        out->status = LB_RUN_CRASHED;
        lb_shared_unmap(sh);
        return 0;
    }

    int64_t start_ns = mono_ns();
    rc = start_processes(spec, leaky, rep, sh, &procs);
    if (rc) {
        if (procs.listen_fd >= 0) close(procs.listen_fd);
        remove_socket_dir(&procs);
        lb_shared_unmap(sh);
        lb_series_free(&out->series);
        return rc;
    }
    pid_t pid = procs.child;

    double cpu_before = process_cpu_s();
    lb_proc proc = {-1, -1, -1, 0, 0, 0};
    int proc_rc = procs.sample_child ? lb_proc_open(&proc, pid) : -ENOENT;
    lb_watch watch;
    lb_watch_init(&watch);
    int64_t interval_ns = (int64_t)(spec->sample_ms * 1e6);
    int64_t next = start_ns + interval_ns;
    int64_t cpu_read_at = 0; /* when the child's CPU time was last read */
    bool reaped = false, killed = false;
    /* Set once the exit-phase sample is taken.  The child then tears down
     * (its heap is unmapped and its threads exit while /proc still shows
     * it: RSS 0, two threads), so later ticks only wait to reap it and
     * take no samples: final values describe the process as it ended its
     * run, not half torn down. */
    bool final_taken = false;
    int wstatus = 0;
    struct rusage usage;
    memset(&usage, 0, sizeof usage);
    /* The children exist now, so none inherits it (nor would one forked
     * later: SCHED_RESET_ON_FORK). */
    out->sampler.realtime = lb_sampler_priority_raise();

    for (;;) {
        struct timespec ts = {next / 1000000000LL, next % 1000000000LL};
        int sr;
        while ((sr = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR &&
               !lb_interrupted) {
        }
        if (lb_interrupted) {
            kill(pid, SIGKILL);
            if (procs.load) kill(procs.load, SIGKILL);
            killed = true;
            out->status = LB_RUN_INTERRUPTED;
            break;
        }
        int64_t now = mono_ns();
        lb_hist_record_us(&out->sampler.lateness, now > next ? (uint64_t)(now - next) / 1000 : 0);
        double lateness_ms = (double)(now - next) / 1e6;

        pid_t w = wait4(pid, &wstatus, WNOHANG, &usage);
        if (w == pid) {
            reaped = true;
            break;
        }
        if (procs.load && !procs.load_reaped && reap_load(&procs, false) &&
            !(WIFEXITED(procs.load_status) && WEXITSTATUS(procs.load_status) == 0)) {
            /* The load process failed: the server would wait forever. */
            kill(pid, SIGKILL);
            killed = true;
            out->status = LB_RUN_CRASHED;
            if (atomic_load(&sh->child_error) != LB_CHILD_LOAD) {
                int st = procs.load_status;
                snprintf(sh->load_error, sizeof sh->load_error,
                         WIFSIGNALED(st) ? "the HTTP load process was killed by signal %d"
                                         : "the HTTP load process exited with status %d",
                         WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                atomic_store(&sh->child_error, LB_CHILD_LOAD);
            }
            break;
        }
        if (final_taken) {
            next += interval_ns;
            continue;
        }
        lb_sample s;
        memset(&s, 0, sizeof s);
        s.t_s = (double)(now - start_ns) / 1e9;
        s.lateness_ms = lateness_ms;
        read_shared(sh, &s);
        bool read_cpu = now - cpu_read_at >= (int64_t)LB_PROC_CPU_PERIOD_MS * 1000000;
        if (read_cpu) cpu_read_at = now;
        if (proc_rc == 0 && lb_proc_read(&proc, &s, read_cpu) != 0) {
            /* Gone between wait4 and the read: the next tick reaps it. */
            next += interval_ns;
            continue;
        }
        out->sampler.ticks++;
        int64_t baseline = s.phase >= LB_PHASE_LOAD ? atomic_load(&sh->ready_tasks) : (int64_t)-1;
        lb_watch_observe(&watch, &s, baseline);
        bool final = s.phase == LB_PHASE_EXIT;
        if (final)
            lb_series_add_final(&out->series, &s);
        else
            lb_series_add(&out->series, &s);
        if (opt->progress) opt->progress(opt->progress_arg, out, &s);
        if (final) {
            final_taken = true;
            atomic_store_explicit(&sh->final_sampled, 1, memory_order_release);
        }

        if (!final && check_guards(limits, &s, &out->guard)) {
            out->guard_fired = true;
            out->status = LB_RUN_GUARD_KILLED;
            kill(pid, SIGKILL);
            if (procs.load) kill(procs.load, SIGKILL);
            killed = true;
            break;
        }
        next += interval_ns;
        if (next <= now) next += ((now - next) / interval_ns + 1) * interval_ns;
    }
    int64_t stopped_ns = mono_ns();
    if (out->sampler.realtime) lb_sampler_priority_lower();
    if (!reaped) {
        while (wait4(pid, &wstatus, 0, &usage) < 0 && errno == EINTR) {
        }
    }
    /* A load process still running now lost its server: it has no more
     * work (after a normal exit phase it is about to exit by itself). */
    if (procs.load && !procs.load_reaped &&
        atomic_load_explicit(&sh->phase, memory_order_acquire) != LB_PHASE_EXIT)
        kill(procs.load, SIGKILL);
    reap_load(&procs, true);
    remove_socket_dir(&procs);
    out->sampler.cpu_s = process_cpu_s() - cpu_before;
    lb_proc_close(&proc);

    if (WIFEXITED(wstatus)) out->exit_code = WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) out->exit_signal = WTERMSIG(wstatus);
    phase_times(sh, start_ns, &out->phases);
    bool reported = atomic_load_explicit(&sh->phase, memory_order_acquire) == LB_PHASE_EXIT;
    if (out->status == LB_RUN_CRASHED ||
        (!killed && (out->exit_code != LB_CHILD_EXIT_OK || out->exit_signal || !reported))) {
        out->status = LB_RUN_CRASHED;
        describe_child_failure(out, sh);
    }
    double shutdown_ms = NAN;
    int64_t done = atomic_load(&sh->shutdown_done_ns),
            cancel = atomic_load(&sh->phase_at_ns[LB_PHASE_SHUTDOWN]);
    if (done > 0 && cancel > 0) shutdown_ms = (double)(done - cancel) / 1e6;
    lb_metrics_finish(&watch, &out->series, &out->phases, sh, reported, shutdown_ms, &out->metrics);
    out->metrics.cpu_user_s = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6;
    out->metrics.cpu_sys_s = (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    out->accounting = lb_accounting_of(sh);
    if (reported) {
        out->has_leaks = true;
        out->leaks = sh->leaks;
    }
    http_result(sh, &procs, out);
    lb_run_schedule_result(sh, (double)(stopped_ns - start_ns) / 1e9, out);
    if (!procs.sample_child) forget_unobserved(out);
    lb_shared_unmap(sh);
    return 0;
}

void lb_run_result_free(lb_run_result *r)
{
    lb_series_free(&r->series);
    json_decref(r->target);
    r->target = NULL;
}
