/*
 * progress.c — progress line and per-run lines (progress.h); every number
 * through core/units.h, as in the table and the report.
 *
 * How the line is fitted: it is a list of segments, each with a rank (0
 * is kept longest) and the spaces that go before it.  Segments are taken
 * rank by rank while they fit the width; the phase bar is a quarter of the
 * width (PROGRESS_BAR_MIN..PROGRESS_BAR_MAX cells), the same on every
 * repaint.  The chosen ones are printed in display order.  One column is kept free: a line that
 * fills the last column makes some terminals wrap before the next '\r'.
 */
#include "progress.h"
#include "terminal.h"

#include "core/units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_BAR_MIN   8  /* cells inside the brackets */
#define PROGRESS_BAR_MAX   24 /* cells inside the brackets */
#define PROGRESS_SEGMENTS  16 /* at most 13 are added */
#define PROGRESS_LAST_RANK 9

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Columns s takes: UTF-8 continuation bytes take none. */
static int columns_of(const char *s)
{
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* ------------------------------------------------------------ format -- */

typedef struct segment {
    char text[96];
    int rank;   /* 0 = kept longest */
    int spaces; /* before it, unless it comes first */
    bool bar;   /* the flexible one: text is filled in once its width is known */
    bool shown;
} segment;

static void add(segment *seg, int *n, int rank, int spaces, const char *text)
{
    if (*n == PROGRESS_SEGMENTS) abort(); /* a segment added without growing the array */
    segment *s = &seg[(*n)++];
    snprintf(s->text, sizeof s->text, "%s", text);
    s->rank = rank;
    s->spaces = spaces;
    s->bar = false;
    s->shown = false;
}

/* "[=======>        ]" with cells cells inside, done (0..1) of them full. */
static void draw_bar(char *buf, size_t n, int cells, double done)
{
    int full = (int)floor(done * cells + 1e-9);
    if (full > cells) full = cells;
    if (full < 0) full = 0;
    size_t o = 0;
    buf[o++] = '[';
    for (int i = 0; i < cells && o + 2 < n; i++) buf[o++] = i < full ? '=' : i == full ? '>' : ' ';
    buf[o++] = ']';
    buf[o] = 0;
}

/* Cells inside the bar's brackets at a terminal width: a quarter of it,
 * within PROGRESS_BAR_MIN..PROGRESS_BAR_MAX. */
static int bar_cells(int width)
{
    int cells = width / 4 - 2;
    return cells < PROGRESS_BAR_MIN   ? PROGRESS_BAR_MIN
           : cells > PROGRESS_BAR_MAX ? PROGRESS_BAR_MAX
                                      : cells;
}

static int percent(double frac)
{
    double p = floor(frac * 100);
    return p < 0 ? 0 : p > 100 ? 100 : (int)p;
}

char *lb_progress_format(const lb_progress_view *v, int width, bool bar, char *buf, size_t n)
{
    segment seg[PROGRESS_SEGMENTS];
    int ns = 0;
    char t[96], a[LB_UNITS_LEN], b[LB_UNITS_LEN];
    bool have_phase = !isnan(v->phase_done);

    snprintf(t, sizeof t, "[%d/%d]", v->run_index, v->run_total);
    add(seg, &ns, 0, 0, t);
    add(seg, &ns, 7, 1, v->scenario ? v->scenario : "?");
    add(seg, &ns, 0, 1, v->variant ? v->variant : "?");
    snprintf(t, sizeof t, "rep %d", v->rep);
    add(seg, &ns, 8, 1, t);
    add(seg, &ns, 0, 2, lb_phase_name((lb_phase)v->phase));
    if (have_phase && bar) {
        add(seg, &ns, 4, 1, "");
        seg[ns - 1].bar = true;
    }
    if (have_phase) {
        snprintf(t, sizeof t, "%d%%", percent(v->phase_done));
        add(seg, &ns, 0, 1, t);
    }
    add(seg, &ns, 9, 1, lb_fmt_ms(a, sizeof a, v->t_s * 1000));
    snprintf(t, sizeof t, "req %s", lb_fmt_count(a, sizeof a, (double)v->submitted));
    if (v->has_requests) add(seg, &ns, 3, 2, t);
    if (v->has_requests && v->timed_out) {
        snprintf(t, sizeof t, "(%s timed out)", lb_fmt_count(b, sizeof b, (double)v->timed_out));
        add(seg, &ns, 5, 1, t);
    }
    snprintf(t, sizeof t, "%s %s", v->live_noun ? v->live_noun : "tasks",
             lb_fmt_count(a, sizeof a, (double)v->tasks));
    add(seg, &ns, 1, 2, t);
    snprintf(t, sizeof t, "RSS %s", lb_fmt_bytes(a, sizeof a, (double)v->rss_bytes));
    add(seg, &ns, 1, 2, t);
    if (!isnan(v->all_done)) {
        snprintf(t, sizeof t, "all %d%%", percent(v->all_done));
        add(seg, &ns, 6, 2, t);
    }
    if (!isnan(v->eta_s)) {
        snprintf(t, sizeof t, "ETA %s",
                 lb_fmt_ms(a, sizeof a, (v->eta_s > 0 ? v->eta_s : 0) * 1000));
        add(seg, &ns, 2, 2, t);
    }

    /* Choose, rank by rank, what fits in width - 1 columns. */
    int room = width > 0 ? width - 1 : 1 << 20, used = 0;
    bool any = false;
    for (int rank = 0; rank <= PROGRESS_LAST_RANK; rank++)
        for (int i = 0; i < ns; i++) {
            segment *s = &seg[i];
            if (s->rank != rank) continue;
            int sep = any ? s->spaces : 0;
            if (s->bar) /* as wide on every repaint at this width */
                draw_bar(s->text, sizeof s->text, bar_cells(width), v->phase_done);
            int w = columns_of(s->text);
            if (rank > 0 && used + sep + w > room) continue; /* rank 0 is cut, never left out */
            s->shown = true;
            used += sep + w;
            any = true;
        }
    /* Print the chosen ones in order; rank 0 alone may still be too wide
     * for a very narrow terminal, so the result is cut at room. */
    size_t o = 0;
    int cols = 0;
    buf[0] = 0;
    bool first = true;
    for (int i = 0; i < ns && o + 1 < n; i++) {
        if (!seg[i].shown) continue;
        for (int k = 0; !first && k < seg[i].spaces && cols < room && o + 1 < n; k++, cols++)
            buf[o++] = ' ';
        first = false;
        for (const char *c = seg[i].text; *c && o + 1 < n; c++) {
            bool starts_char = ((unsigned char)*c & 0xC0) != 0x80;
            if (starts_char && cols == room) break;
            cols += starts_char;
            buf[o++] = *c;
        }
    }
    buf[o] = 0;
    return buf;
}

double lb_progress_planned_s(const lb_scenario_spec *s)
{
    return (s->duration_ms + s->settle_ms) / 1000;
}

/* ------------------------------------------------------------ state -- */

void lb_progress_init(lb_progress *p, FILE *out, bool quiet, int run_total, double planned_total_s)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = isatty(fileno(out));
    p->quiet = quiet;
    p->run_total = run_total;
    p->planned_total_s = planned_total_s;
}

void lb_progress_run_start(lb_progress *p, const lb_scenario_spec *s, bool leaky, int rep)
{
    p->run_index++;
    p->last_ns = 0;
    p->run_start_ns = mono_ns();
    p->phase = -1;
    p->phase_at_s = 0;
    if (p->quiet || p->tty) return;
    fprintf(p->out, "[%d/%d] %s %s rep %d: started\n", p->run_index, p->run_total, s->name,
            leaky ? "leaky" : "graceful", rep);
    fflush(p->out);
}

/* Seconds of the current run's planned load and settle already behind it
 * at sample s (phase_at_s: when s's phase began). */
static double planned_elapsed(const lb_scenario_spec *spec, int phase, double in_phase_s)
{
    double load = spec->duration_ms / 1000, settle = spec->settle_ms / 1000;
    if (phase < LB_PHASE_LOAD) return 0;
    if (phase == LB_PHASE_LOAD) return fmin(in_phase_s, load);
    if (phase == LB_PHASE_SETTLE) return load + fmin(in_phase_s, settle);
    return load + settle;
}

/* What the run's live tasks are: goroutines for a target read by the
 * go_pprof probe, OS threads under the threads probe, else tasks. */
static const char *live_noun(const lb_run_result *run)
{
    const lb_target_spec *t = &run->spec->target;
    lb_probe_kind probe = !t->active   ? LB_PROBE_NONE
                          : run->leaky ? t->leaky.probe
                                       : t->graceful.probe;
    return probe == LB_PROBE_GO_PPROF  ? "goroutines"
           : probe == LB_PROBE_THREADS ? "threads"
                                       : "tasks";
}

/* The whole view of sample s, including the ETA (progress.h). */
static void view_of(const lb_progress *p, const lb_run_result *run, const lb_sample *s,
                    lb_progress_view *v)
{
    const lb_scenario_spec *spec = run->spec;
    double in_phase = s->t_s - p->phase_at_s;
    *v = (lb_progress_view){.run_index = p->run_index,
                            .run_total = p->run_total,
                            .scenario = spec->name,
                            .variant = run->leaky ? "leaky" : "graceful",
                            .rep = run->rep,
                            .phase = s->phase,
                            .phase_done = NAN,
                            .t_s = s->t_s,
                            .all_done = NAN,
                            .eta_s = NAN,
                            /* a target's requests are counted by its load, not per sample */
                            .has_requests = !spec->target.active,
                            .submitted = s->submitted,
                            .timed_out = s->outcome[LB_TIMED_OUT],
                            .live_noun = live_noun(run),
                            .tasks = s->tasks,
                            .rss_bytes = s->rss_bytes};
    double planned_phase = s->phase == LB_PHASE_LOAD     ? spec->duration_ms / 1000
                           : s->phase == LB_PHASE_SETTLE ? spec->settle_ms / 1000
                                                         : NAN;
    if (planned_phase > 0) v->phase_done = fmin(in_phase / planned_phase, 1);
    if (p->runs_done == 0 || p->planned_total_s <= 0) return;
    double per_run = p->overhead_done_s / p->runs_done;
    double known = planned_elapsed(spec, s->phase, in_phase);
    double overhead_now = s->t_s - known; /* start-up, ready, shutdown so far */
    double eta = p->planned_total_s - p->planned_done_s - known +
                 per_run * (p->run_total - p->runs_done - 1) + fmax(per_run - overhead_now, 0);
    v->eta_s = fmax(eta, 0);
    double elapsed = p->wall_done_s + s->t_s;
    v->all_done = elapsed / (elapsed + v->eta_s);
}

void lb_progress_sample(void *arg, const lb_run_result *run, const lb_sample *s)
{
    lb_progress *p = arg;
    if (s->phase != p->phase) {
        p->phase = s->phase;
        p->phase_at_s = s->t_s;
    }
    if (p->quiet) return;
    int64_t now = mono_ns();
    int64_t every = p->tty ? 200000000LL : 1000000000LL;
    if (p->last_ns && now - p->last_ns < every) return;
    p->last_ns = now;
    lb_progress_view v;
    view_of(p, run, s, &v);
    char line[512];
    if (p->tty) {
        lb_progress_format(&v, lb_terminal_columns(fileno(p->out)), true, line, sizeof line);
        fprintf(p->out, "\r%s\033[K", line);
    } else {
        fprintf(p->out, "%s\n", lb_progress_format(&v, 0, false, line, sizeof line));
    }
    p->line_open = p->tty;
    fflush(p->out);
}

/* Prints PARTS (NULL-ended: the first, then each to follow ", ") as one
 * line, or on a terminal of WIDTH columns (0: any) as lines that fit it,
 * breaking after a comma, the later lines indented: a figure is never
 * cut in two by the terminal's own wrap. */
static void put_fitted(FILE *out, const char *const *parts, int width)
{
    int col = 0;
    for (size_t i = 0; parts[i]; i++) {
        int w = columns_of(parts[i]);
        if (i && width > 0 && col + 2 + w > width - 1) {
            fputs(",\n    ", out);
            col = 4;
        } else if (i) {
            fputs(", ", out);
            col += 2;
        }
        fputs(parts[i], out);
        col += w;
    }
    fputc('\n', out);
}

void lb_progress_run_done(lb_progress *p, const lb_run_result *run)
{
    double wall = (double)(mono_ns() - p->run_start_ns) / 1e9,
           planned = lb_progress_planned_s(run->spec);
    p->runs_done++;
    p->wall_done_s += wall;
    p->planned_done_s += planned;
    p->overhead_done_s += fmax(wall - planned, 0); /* a guard-killed run ends early */
    if (p->quiet) return;
    if (p->line_open) fputs("\r\033[K", p->out);
    p->line_open = false;
    char peak[LB_UNITS_LEN], rss[LB_UNITS_LEN], at[LB_UNITS_LEN];
    char head[256], tasks[96], memory[96], guard[128], status[1024];
    lb_fmt_count(peak, sizeof peak, run->metrics.peak_tasks);
    lb_fmt_bytes(rss, sizeof rss, run->metrics.peak_rss);
    snprintf(head, sizeof head, "[%d/%d] %s %s rep %d: %s", p->run_index, p->run_total,
             run->spec->name, run->leaky ? "leaky" : "graceful", run->rep,
             lb_run_status_name(run->status));
    snprintf(tasks, sizeof tasks, "peak %s %s", live_noun(run), peak);
    snprintf(memory, sizeof memory, "peak RSS %s", rss);
    snprintf(guard, sizeof guard, "%s guard fired at %s", run->guard.kind,
             lb_fmt_ms(at, sizeof at, run->guard.at_s * 1000));
    /* The error, in parentheses, stays with the last figure. */
    const char *last = run->guard_fired ? guard : memory;
    snprintf(status, sizeof status, "%s%s%s%s", last, run->error[0] ? " (" : "", run->error,
             run->error[0] ? ")" : "");
    const char *parts[] = {head, tasks, run->guard_fired ? memory : status,
                           run->guard_fired ? status : NULL, NULL};
    put_fitted(p->out, parts, p->tty ? lb_terminal_columns(fileno(p->out)) : 0);
    fflush(p->out);
}
