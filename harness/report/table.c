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

#include <math.h>
#include <string.h>

void lb_format_bytes(double bytes, char *buf, size_t n)
{
    if (isnan(bytes)) {
        snprintf(buf, n, "n/a");
        return;
    }
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (fabs(bytes) >= 1000 && u < 4) {
        bytes /= 1000;
        u++;
    }
    snprintf(buf, n,
             u == 0        ? "%.0f %s"
             : bytes < 10  ? "%.2f %s"
             : bytes < 100 ? "%.1f %s"
                           : "%.0f %s",
             bytes, units[u]);
}

void lb_format_count(double v, char *buf, size_t n)
{
    if (isnan(v)) {
        snprintf(buf, n, "n/a");
        return;
    }
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", (long long)llround(fabs(v)));
    size_t len = strlen(digits), o = 0;
    if (v < 0 && o + 1 < n) buf[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
}

static void format_ms(double ms, char *buf, size_t n)
{
    if (isnan(ms))
        snprintf(buf, n, "n/a");
    else if (ms < 10)
        snprintf(buf, n, "%.1f ms", ms);
    else if (ms < 10000)
        snprintf(buf, n, "%.0f ms", ms);
    else
        snprintf(buf, n, "%.1f s", ms / 1000);
}

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
        lb_format_bytes(st.min, lo, sizeof lo);
        lb_format_bytes(st.max, hi, sizeof hi);
    } else if (ms) {
        format_ms(st.min, lo, sizeof lo);
        format_ms(st.max, hi, sizeof hi);
    } else {
        lb_format_count(st.min, lo, sizeof lo);
        lb_format_count(st.max, hi, sizeof hi);
    }
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, " [%s..%s]", lo, hi);
}

static void cell_tasks(const lb_scenario_result *s, bool leaky, const column *c, char *buf,
                       size_t n)
{
    lb_summary_stat st = lb_summarise(s, leaky, "peak_tasks");
    char v[64];
    lb_format_count(st.median, v, sizeof v);
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
    lb_format_bytes(st.median, v, sizeof v);
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
    format_ms(st.median, v, sizeof v);
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
    lb_format_count(st.median, buf, n);
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
    format_ms(st.median, buf, n);
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
        lb_format_bytes(g->value, v, sizeof v);
        lb_format_bytes(g->limit, lim, sizeof lim);
    } else if (!strcmp(g->kind, "tasks")) {
        lb_format_count(g->value, v, sizeof v);
        lb_format_count(g->limit, lim, sizeof lim);
    } else {
        format_ms(g->value, v, sizeof v);
        format_ms(g->limit, lim, sizeof lim);
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
