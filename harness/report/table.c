/*
 * table.c — prints the before/after table (table.h).
 *
 * Every cell is the median over the variant's repetitions (the summary in
 * results.json); with more than one repetition the range follows in
 * brackets.  Labels come from measurements: "(controlled)" when the twin
 * got back to its idle baseline, "(unbounded)" when it did not and still
 * held more tasks at the end than at rest; the memory trend is the
 * metrics' rising/stable verdict.
 */
#include "table.h"
#include "core/units.h"

#include <math.h>
#include <string.h>

typedef struct column {
    bool present;
    int runs, recovered_runs, guard_kills, crashed;
    const lb_run_result *first_guard;
    bool rising, stable; /* any run rising / stable */
    bool holds_tasks;    /* any run ended above its baseline */
} column;

static column summarise_column(const lb_scenario_result *s, bool leaky)
{
    column c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < s->n_runs; i++) {
        const lb_run_result *r = &s->runs[i];
        if (r->leaky != leaky) continue;
        c.present = true;
        c.runs++;
        c.recovered_runs += r->metrics.recovered;
        if (r->status == LB_RUN_GUARD_KILLED) {
            c.guard_kills++;
            if (!c.first_guard) c.first_guard = r;
        }
        if (r->status == LB_RUN_CRASHED) c.crashed++;
        if (r->metrics.trend && !strcmp(r->metrics.trend, "rising")) c.rising = true;
        if (r->metrics.trend && !strcmp(r->metrics.trend, "stable")) c.stable = true;
        if (r->metrics.final_tasks > r->metrics.baseline_tasks) c.holds_tasks = true;
    }
    return c;
}

static void with_range(char *buf, size_t n, lb_summary_stat st, bool bytes, bool ms)
{
    if (st.n <= 1 || st.min == st.max) return;
    char lo[32], hi[32];
    if (bytes) {
        lb_fmt_bytes(lo, sizeof lo, st.min);
        lb_fmt_bytes(hi, sizeof hi, st.max);
    } else if (ms) {
        lb_fmt_ms(lo, sizeof lo, st.min);
        lb_fmt_ms(hi, sizeof hi, st.max);
    } else {
        lb_fmt_count(lo, sizeof lo, st.min);
        lb_fmt_count(hi, sizeof hi, st.max);
    }
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, " [%s..%s]", lo, hi);
}

static void cell_tasks(const lb_scenario_result *s, bool leaky, const column *c, char *buf,
                       size_t n)
{
    lb_summary_stat st = lb_summarise(s, leaky, "peak_tasks");
    char v[64];
    lb_fmt_count(v, sizeof v, st.median);
    const char *label = c->recovered_runs == c->runs ? "controlled"
                        : c->holds_tasks             ? "unbounded"
                                                     : "not recovered";
    snprintf(buf, n, "%s (%s)", v, label);
    with_range(buf, n, st, false, false);
}

static void cell_memory(const lb_scenario_result *s, bool leaky, const column *c, char *buf,
                        size_t n)
{
    lb_summary_stat st = lb_summarise(s, leaky, "peak_rss_bytes");
    char v[64];
    lb_fmt_bytes(v, sizeof v, st.median);
    const char *trend = c->rising && c->stable ? "mixed"
                        : c->rising            ? "rising"
                        : c->stable            ? "stable"
                                               : "trend n/a";
    snprintf(buf, n, "%s (%s)", v, trend);
    with_range(buf, n, st, true, false);
}

static void cell_recovery(const lb_scenario_result *s, bool leaky, const column *c, char *buf,
                          size_t n)
{
    if (c->recovered_runs == 0) {
        snprintf(buf, n, "restart required");
        return;
    }
    lb_summary_stat st = lb_summarise(s, leaky, "recovery_ms");
    char v[64];
    lb_fmt_ms(v, sizeof v, st.median);
    if (c->recovered_runs < c->runs)
        snprintf(buf, n, "%s (%d of %d runs)", v, c->recovered_runs, c->runs);
    else
        snprintf(buf, n, "%s", v);
    with_range(buf, n, st, false, true);
}

static void cell_count(const lb_scenario_result *s, bool leaky, const char *metric, char *buf,
                       size_t n)
{
    lb_summary_stat st = lb_summarise(s, leaky, metric);
    lb_fmt_count(buf, n, st.median);
    with_range(buf, n, st, false, false);
}

static void cell_ms(const lb_scenario_result *s, bool leaky, const char *metric,
                    const char *if_null, char *buf, size_t n)
{
    lb_summary_stat st = lb_summarise(s, leaky, metric);
    if (st.n == 0) {
        snprintf(buf, n, "%s", if_null);
        return;
    }
    lb_fmt_ms(buf, n, st.median);
    with_range(buf, n, st, false, true);
}

static void cell_guard(const column *c, char *buf, size_t n)
{
    if (c->guard_kills == 0) {
        snprintf(buf, n, c->crashed ? "%d run(s) crashed" : "none fired", c->crashed);
        return;
    }
    const lb_guard_event *g = &c->first_guard->guard;
    char v[32], lim[32];
    if (!strcmp(g->kind, "memory")) {
        lb_fmt_bytes(v, sizeof v, g->value);
        lb_fmt_bytes(lim, sizeof lim, g->limit);
    } else if (!strcmp(g->kind, "tasks")) {
        lb_fmt_count(v, sizeof v, g->value);
        lb_fmt_count(lim, sizeof lim, g->limit);
    } else {
        lb_fmt_ms(v, sizeof v, g->value);
        lb_fmt_ms(lim, sizeof lim, g->limit);
    }
    snprintf(buf, n, "%s limit at %.1f s (%s > %s)%s", g->kind, g->at_s, v, lim,
             c->guard_kills > 1 ? " ..." : "");
}

static void print_row(FILE *out, const char *name, const char *a, const char *b, int wa, int wb)
{
    fprintf(out, "| %-15s | %-*s | %-*s |\n", name, wa, a, wb, b);
}

void lb_table_print(FILE *out, const lb_scenario_result *s)
{
    column lc = summarise_column(s, true), gc = summarise_column(s, false);
    enum { ROWS = 6, W = 200 };
    static const char *const names[ROWS] = {"Peak tasks",   "Memory (RSS)", "Recovery time",
                                            "Leaked tasks", "Shutdown",     "Guard"};
    char cells[ROWS][2][W];
    for (int v = 0; v < 2; v++) {
        bool leaky = v == 0;
        const column *c = leaky ? &lc : &gc;
        if (!c->present) {
            for (int r = 0; r < ROWS; r++) snprintf(cells[r][v], W, "not run");
            continue;
        }
        cell_tasks(s, leaky, c, cells[0][v], W);
        cell_memory(s, leaky, c, cells[1][v], W);
        cell_recovery(s, leaky, c, cells[2][v], W);
        cell_count(s, leaky, "leaked_tasks", cells[3][v], W);
        cell_ms(s, leaky, "shutdown_ms", "tasks left running", cells[4][v], W);
        cell_guard(c, cells[5][v], W);
    }
    int wa = (int)strlen("Before fix (leaky)"), wb = (int)strlen("After fix (graceful)");
    for (int r = 0; r < ROWS; r++) {
        if ((int)strlen(cells[r][0]) > wa) wa = (int)strlen(cells[r][0]);
        if ((int)strlen(cells[r][1]) > wb) wb = (int)strlen(cells[r][1]);
    }
    int reps = lc.runs > gc.runs ? lc.runs : gc.runs;
    fprintf(out, "\n%s — pattern %d, %s; %s scheduler, %d repetition%s%s\n\n",
            s->spec->scenario->name, s->spec->scenario->pattern, s->spec->scenario->title,
            rt_sched_name(s->spec->scheduler), reps, reps == 1 ? "" : "s",
            reps > 1 ? " (medians, [min..max])" : "");
    print_row(out, "Metric", "Before fix (leaky)", "After fix (graceful)", wa, wb);
    char dash_a[256], dash_b[256];
    memset(dash_a, '-', (size_t)wa);
    dash_a[wa] = 0;
    memset(dash_b, '-', (size_t)wb);
    dash_b[wb] = 0;
    fprintf(out, "|-----------------|-%s-|-%s-|\n", dash_a, dash_b);
    for (int r = 0; r < ROWS; r++) print_row(out, names[r], cells[r][0], cells[r][1], wa, wb);

    fprintf(out, "\nAccounting (submitted = completed + timed_out + failed + rejected + "
                 "cancelled):\n");
    for (int i = 0; i < s->n_runs; i++) {
        const lb_run_result *r = &s->runs[i];
        const lb_accounting *a = &r->accounting;
        fprintf(out, "  %-8s rep %d: %lld = %lld + %lld + %lld + %lld + %lld  ",
                r->leaky ? "leaky" : "graceful", r->rep, (long long)a->submitted,
                (long long)a->outcome[LB_COMPLETED], (long long)a->outcome[LB_TIMED_OUT],
                (long long)a->outcome[LB_FAILED], (long long)a->outcome[LB_REJECTED],
                (long long)a->outcome[LB_CANCELLED]);
        if (r->status != LB_RUN_COMPLETED)
            fprintf(out, "incomplete (%lld in flight when the run stopped)",
                    (long long)a->unanswered);
        else if (a->balanced)
            fprintf(out, "balanced");
        else
            fprintf(out, "NOT BALANCED: %lld requests unanswered", (long long)a->unanswered);
        if (r->status != LB_RUN_COMPLETED)
            fprintf(out, " [%s%s%s]", lb_run_status_name(r->status), r->error[0] ? ": " : "",
                    r->error);
        fputc('\n', out);
    }

    /* The leak report of the first run of each variant that left tasks
     * behind (results.json has every run's). */
    for (int v = 0; v < 2; v++) {
        for (int i = 0; i < s->n_runs; i++) {
            const lb_run_result *r = &s->runs[i];
            if (r->leaky != (v == 0) || !r->has_leaks || r->leaks.total == 0) continue;
            char label[64];
            snprintf(label, sizeof label, "%s rep %d", r->leaky ? "leaky" : "graceful", r->rep);
            lb_leak_report_print(out, label, &r->leaks, s->spec->scenario, 3);
            break;
        }
    }
}
