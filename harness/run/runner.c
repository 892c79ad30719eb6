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

#include <errno.h>
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
    static const char *const names[] = {"completed", "guard_killed", "crashed", "interrupted"};
    return (unsigned)s < 4 ? names[s] : "unknown";
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
    default:
        if (r->exit_signal)
            snprintf(r->error, sizeof r->error, "child killed by signal %d (%s)", r->exit_signal,
                     strsignal(r->exit_signal));
        else
            snprintf(r->error, sizeof r->error, "child exited with status %d", r->exit_code);
    }
}

int lb_run_one(const lb_scenario_spec *spec, bool leaky, int rep, const lb_guards *limits,
               const lb_run_options *opt, lb_run_result *out)
{
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

    fflush(stdout);
    fflush(stderr);
    int64_t start_ns = mono_ns();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        lb_shared_unmap(sh);
        lb_series_free(&out->series);
        return -e;
    }
    if (pid == 0) lb_child_main(spec, leaky, rep, sh);

    double cpu_before = process_cpu_s();
    lb_proc proc = {-1, -1, -1, 0, 0, 0};
    int proc_rc = lb_proc_open(&proc, pid);
    lb_watch watch;
    lb_watch_init(&watch);
    int64_t interval_ns = (int64_t)(spec->sample_ms * 1e6);
    int64_t next = start_ns + interval_ns;
    int64_t cpu_read_at = 0; /* when the child's CPU time was last read */
    bool reaped = false, killed = false;
    int wstatus = 0;
    struct rusage usage;
    memset(&usage, 0, sizeof usage);

    for (;;) {
        struct timespec ts = {next / 1000000000LL, next % 1000000000LL};
        int sr;
        while ((sr = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR &&
               !lb_interrupted) {
        }
        if (lb_interrupted) {
            kill(pid, SIGKILL);
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
        if (final) atomic_store_explicit(&sh->final_sampled, 1, memory_order_release);

        if (!final && check_guards(limits, &s, &out->guard)) {
            out->guard_fired = true;
            out->status = LB_RUN_GUARD_KILLED;
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        next += interval_ns;
        if (next <= now) next += ((now - next) / interval_ns + 1) * interval_ns;
    }
    if (!reaped) {
        while (wait4(pid, &wstatus, 0, &usage) < 0 && errno == EINTR) {
        }
    }
    out->sampler.cpu_s = process_cpu_s() - cpu_before;
    lb_proc_close(&proc);

    if (WIFEXITED(wstatus)) out->exit_code = WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) out->exit_signal = WTERMSIG(wstatus);
    phase_times(sh, start_ns, &out->phases);
    bool reported = atomic_load_explicit(&sh->phase, memory_order_acquire) == LB_PHASE_EXIT;
    if (!killed && (out->exit_code != LB_CHILD_EXIT_OK || out->exit_signal || !reported)) {
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
    lb_shared_unmap(sh);
    return 0;
}

void lb_run_result_free(lb_run_result *r)
{
    lb_series_free(&r->series);
}
