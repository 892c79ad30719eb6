/*
 * progress.c — progress line and per-run lines (progress.h); every number
 * through core/units.h, as in the table and the report.
 */
#include "progress.h"

#include "core/units.h"

#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void lb_progress_init(lb_progress *p, FILE *out, bool quiet, int run_total)
{
    p->out = out;
    p->tty = isatty(fileno(out));
    p->quiet = quiet;
    p->last_ns = 0;
    p->run_index = 0;
    p->run_total = run_total;
    p->line_open = false;
}

void lb_progress_run_start(lb_progress *p, const lb_scenario_spec *s, bool leaky, int rep)
{
    p->run_index++;
    p->last_ns = 0;
    if (p->quiet || p->tty) return;
    fprintf(p->out, "[%d/%d] %s %s rep %d: started\n", p->run_index, p->run_total, s->name,
            leaky ? "leaky" : "graceful", rep);
    fflush(p->out);
}

void lb_progress_sample(void *arg, const lb_run_result *run, const lb_sample *s)
{
    lb_progress *p = arg;
    if (p->quiet) return;
    int64_t now = mono_ns();
    int64_t every = p->tty ? 200000000LL : 1000000000LL;
    if (p->last_ns && now - p->last_ns < every) return;
    p->last_ns = now;
    char at[LB_UNITS_LEN], tasks[LB_UNITS_LEN], rss[LB_UNITS_LEN];
    lb_fmt_ms(at, sizeof at, s->t_s * 1000);
    lb_fmt_count(tasks, sizeof tasks, (double)s->tasks);
    lb_fmt_bytes(rss, sizeof rss, (double)s->rss_bytes);
    fprintf(p->out, "%s[%d/%d] %s %-8s rep %d  %-8s %8s  tasks %8s  RSS %10s%s", p->tty ? "\r" : "",
            p->run_index, p->run_total, run->spec->name, run->leaky ? "leaky" : "graceful",
            run->rep, lb_phase_name((lb_phase)s->phase), at, tasks, rss, p->tty ? "\033[K" : "\n");
    p->line_open = p->tty;
    fflush(p->out);
}

void lb_progress_run_done(lb_progress *p, const lb_run_result *run)
{
    if (p->quiet) return;
    if (p->line_open) fputs("\r\033[K", p->out);
    p->line_open = false;
    char peak[LB_UNITS_LEN], rss[LB_UNITS_LEN], at[LB_UNITS_LEN];
    lb_fmt_count(peak, sizeof peak, run->metrics.peak_tasks);
    lb_fmt_bytes(rss, sizeof rss, run->metrics.peak_rss);
    const lb_target_spec *t = &run->spec->target;
    lb_probe_kind probe = !t->active   ? LB_PROBE_NONE
                          : run->leaky ? t->leaky.probe
                                       : t->graceful.probe;
    fprintf(p->out, "[%d/%d] %s %s rep %d: %s, peak %s %s, peak RSS %s", p->run_index, p->run_total,
            run->spec->name, run->leaky ? "leaky" : "graceful", run->rep,
            lb_run_status_name(run->status),
            probe == LB_PROBE_GO_PPROF  ? "goroutines"
            : probe == LB_PROBE_THREADS ? "threads"
                                        : "tasks",
            peak, rss);
    if (run->guard_fired)
        fprintf(p->out, ", %s guard fired at %s", run->guard.kind,
                lb_fmt_ms(at, sizeof at, run->guard.at_s * 1000));
    if (run->error[0]) fprintf(p->out, " (%s)", run->error);
    fputc('\n', p->out);
    fflush(p->out);
}
