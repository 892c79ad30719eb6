/*
 * compare.c — compares two results documents (loaded through
 * run/results_load.h) metric by metric with the rules in compare.h, and
 * renders the comparison for a terminal and as Markdown.
 */
#include "compare.h"
#include "aa_noise.h"
#include "core/color.h"
#include "core/outfile.h"
#include "core/stats.h"
#include "core/units.h"
#include "report/table.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const verdict_names[] = {"unchanged", "improved", "regressed", "inconclusive"};
const char *lb_verdict_name(lb_verdict v)
{
    return verdict_names[v];
}

/* ---------------------------------------------------------- comparing -- */

static lb_compare_row *add_row(lb_comparison *c)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        lb_compare_row *rows = realloc(c->rows, cap * sizeof *rows);
        if (!rows) return NULL;
        c->rows = rows;
        c->cap = cap;
    }
    lb_compare_row *r = &c->rows[c->n++];
    memset(r, 0, sizeof *r);
    r->p = r->delta = r->ratio = r->ratio_sd = r->change = NAN;
    return r;
}

static void note(lb_comparison *c, const char *fmt, ...)
{
    size_t used = strlen(c->notes);
    if (used + 2 >= sizeof c->notes) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->notes + used, sizeof c->notes - used, fmt, ap);
    va_end(ap);
    used = strlen(c->notes);
    if (used + 1 < sizeof c->notes) strcat(c->notes, "\n");
}

static const json_t *find_scenario(const json_t *doc, const char *name)
{
    const json_t *scenarios = json_object_get(doc, "scenarios");
    for (size_t i = 0; i < json_array_size(scenarios); i++) {
        const json_t *s = json_array_get(scenarios, i);
        if (!strcmp(json_string_value(json_object_get(s, "name")), name)) return s;
    }
    return NULL;
}

/* The relative noise threshold of one row: measured by an A/A run
 * (pairs > 0) or the fixed default. */
typedef struct row_noise {
    double rel;
    int pairs;
} row_noise;

static row_noise noise_for(const lb_compare_opts *o, size_t variant, const char *scenario,
                           const lb_metric_def *m)
{
    row_noise rn = {o->noise, 0};
    const json_t *aa = o->noise_from[variant];
    double rel;
    int pairs;
    if (aa && lb_aa_noise_lookup(aa, scenario, m->name, &rel, &pairs) && pairs > 0) {
        rn.rel = rel;
        rn.pairs = pairs;
    }
    return rn;
}

static void judge(lb_compare_row *r, const lb_metric_values *b, const lb_metric_values *n,
                  const lb_compare_opts *o, row_noise rn)
{
    const lb_metric_def *m = r->metric;
    r->n_base = b->n;
    r->n_new = n->n;
    r->base_null = !b->has_median;
    r->new_null = !n->has_median;
    r->base = b->median;
    r->next = n->median;
    if (!b->present || !n->present) {
        r->verdict = LB_INCONCLUSIVE;
        snprintf(r->note, sizeof r->note, "no %s runs in the %s results", r->variant,
                 b->present ? "new" : "base");
        return;
    }
    if (r->base_null && r->new_null) {
        r->verdict = LB_UNCHANGED;
        snprintf(r->note, sizeof r->note, "not measured in either run");
        return;
    }
    if (r->base_null || r->new_null) {
        r->verdict = LB_INCONCLUSIVE;
        snprintf(r->note, sizeof r->note, "null (not measured) in the %s run only",
                 r->base_null ? "base" : "new");
        return;
    }
    double diff = r->next - r->base;
    r->ratio = r->base != 0 ? r->next / r->base : (r->next == 0 ? 1.0 : NAN);
    double sd_b = lb_stats_rel_sd(b->samples, b->n), sd_n = lb_stats_rel_sd(n->samples, n->n);
    r->ratio_sd = fabs(r->ratio) * sqrt(sd_b * sd_b + sd_n * sd_n); /* NAN below 2+2 runs */
    r->change = r->base != 0 ? diff / fabs(r->base)
                             : (diff == 0  ? 0
                                : diff > 0 ? INFINITY
                                           : -INFINITY);
    bool beyond_noise = fabs(diff) > rn.rel * fabs(r->base) && fabs(diff) > m->noise_floor;
    bool better = m->better == LB_BETTER_LOWER ? diff < 0 : diff > 0;
    lb_verdict moved = better ? LB_IMPROVED : LB_REGRESSED;

    bool usable = b->n >= 2 && n->n >= 2 && lb_mwu_min_p(b->n, n->n) <= o->alpha;
    if (usable) {
        lb_mwu u;
        if (lb_mann_whitney(n->samples, n->n, b->samples, b->n, &u) == 0) {
            r->tested = true;
            r->p = u.p;
            r->delta = u.delta;
        }
    }
    if (!beyond_noise) {
        r->verdict = LB_UNCHANGED;
        char floor_text[LB_UNITS_LEN];
        lb_metric_format(m, m->noise_floor, floor_text, sizeof floor_text);
        if (rn.pairs)
            snprintf(r->note, sizeof r->note, "within A/A noise (%.3g%% over %d pairs, floor %s)",
                     rn.rel * 100, rn.pairs, floor_text);
        else
            snprintf(r->note, sizeof r->note, "within noise (%.3g%%, floor %s)", rn.rel * 100,
                     floor_text);
    } else if (!r->tested) {
        r->verdict = moved;
        if (b->n < 2 || n->n < 2)
            snprintf(r->note, sizeof r->note, "beyond noise; single run, no significance test");
        else
            snprintf(r->note, sizeof r->note,
                     "beyond noise; %zu+%zu runs cannot reach p <= %g (min p %.3g), no test", b->n,
                     n->n, o->alpha, lb_mwu_min_p(b->n, n->n));
    } else if (r->p <= o->alpha) {
        r->verdict = moved;
        snprintf(r->note, sizeof r->note, "beyond noise and significant (U test p = %.3g)", r->p);
    } else {
        r->verdict = LB_INCONCLUSIVE;
        snprintf(r->note, sizeof r->note, "beyond noise but not significant (U test p = %.3g > %g)",
                 r->p, o->alpha);
    }
}

/* True when two documents ran the same spec (ignoring where it was). */
static bool same_spec(const json_t *a, const json_t *b)
{
    json_t *ca = json_deep_copy(json_object_get(a, "spec"));
    json_t *cb = json_deep_copy(json_object_get(b, "spec"));
    if (ca) json_object_del(ca, "path");
    if (cb) json_object_del(cb, "path");
    bool same = (!ca && !cb) || json_equal(ca, cb);
    json_decref(ca);
    json_decref(cb);
    return same;
}

int lb_compare(const json_t *base, const json_t *next, const lb_compare_opts *opts,
               lb_comparison *out)
{
    memset(out, 0, sizeof *out);
    out->opts = *opts;
    if (!same_spec(base, next))
        note(out, "the two runs used different specs (load, durations or thresholds differ); "
                  "differences may come from that");
    const json_t *docs[2] = {base, next};
    const char *partial = NULL; /* "base" or "new" when that side is not complete */
    for (int d = 0; d < 2; d++) {
        const char *status = json_string_value(json_object_get(docs[d], "status"));
        if (status && strcmp(status, "complete")) {
            note(out, "the %s run's status is \"%s\": its results are partial", d ? "new" : "base",
                 status);
            if (!partial) partial = d ? "new" : "base";
        }
    }
    for (size_t vi = 0; vi < 2; vi++)
        if (opts->noise_from[vi])
            note(out,
                 "%s rows: noise measured by an A/A run (the largest relative difference "
                 "between paired identical runs, per scenario and metric; the default %.3g%% "
                 "where it measured nothing)",
                 lb_variants[vi], opts->noise * 100);
    const char *hb = json_string_value(json_object_get(json_object_get(base, "host"), "cpu_model"));
    const char *hn = json_string_value(json_object_get(json_object_get(next, "host"), "cpu_model"));
    if (hb && hn && strcmp(hb, hn)) note(out, "the runs come from different CPUs (%s, %s)", hb, hn);

    const json_t *scenarios = json_object_get(base, "scenarios");
    for (size_t si = 0; si < json_array_size(scenarios); si++) {
        const json_t *bs = json_array_get(scenarios, si);
        const char *name = json_string_value(json_object_get(bs, "name"));
        const json_t *ns = find_scenario(next, name);
        if (!ns) {
            lb_compare_row *r = add_row(out);
            if (!r) return -ENOMEM;
            snprintf(r->scenario, sizeof r->scenario, "%s", name);
            r->variant = "-";
            r->verdict = LB_INCONCLUSIVE;
            r->base_null = r->new_null = true;
            snprintf(r->note, sizeof r->note, "scenario missing from the new results");
            out->count[r->verdict]++;
            continue;
        }
        for (size_t vi = 0; vi < 2; vi++) {
            for (size_t mi = 0; mi < lb_metric_count(); mi++) {
                const lb_metric_def *m = lb_metric_at(mi);
                if (!m->compared || m->better == LB_BETTER_NEITHER) continue;
                lb_metric_values bv, nv;
                if (lb_metric_collect(bs, lb_variants[vi], m, &bv)) return -ENOMEM;
                if (lb_metric_collect(ns, lb_variants[vi], m, &nv)) {
                    lb_metric_values_free(&bv);
                    return -ENOMEM;
                }
                if (bv.present && nv.present && (!bv.recorded || !nv.recorded)) {
                    /* A field one leakbench version writes and the other
                     * does not: nothing to compare, and not a failure. */
                    if (vi == 0)
                        note(out, "%s: %s is not recorded in the %s results: not compared", name,
                             m->name, !bv.recorded ? "base" : "new");
                    lb_metric_values_free(&bv);
                    lb_metric_values_free(&nv);
                    continue;
                }
                lb_compare_row *r = add_row(out);
                if (r) {
                    snprintf(r->scenario, sizeof r->scenario, "%s", name);
                    r->variant = lb_variants[vi];
                    r->metric = m;
                    judge(r, &bv, &nv, opts, noise_for(opts, vi, name, m));
                    if (partial && r->verdict != LB_UNCHANGED) {
                        /* An interrupted run's medians cover part of a
                         * load: a difference is no evidence either way. */
                        r->verdict = LB_INCONCLUSIVE;
                        snprintf(r->note, sizeof r->note,
                                 "the %s results are partial (run interrupted)", partial);
                    }
                    r->info = !opts->all_metrics && !lb_metric_gated(m);
                    if (!r->info)
                        out->count[r->verdict]++;
                    else if (r->verdict != LB_UNCHANGED)
                        out->info_changed++;
                }
                lb_metric_values_free(&bv);
                lb_metric_values_free(&nv);
                if (!r) return -ENOMEM;
            }
        }
    }
    const json_t *nsc = json_object_get(next, "scenarios");
    for (size_t si = 0; si < json_array_size(nsc); si++) {
        const char *name = json_string_value(json_object_get(json_array_get(nsc, si), "name"));
        if (!find_scenario(base, name))
            note(out, "scenario %s is new (not in the base results): not compared", name);
    }
    return 0;
}

void lb_comparison_free(lb_comparison *c)
{
    free(c->rows);
    memset(c, 0, sizeof *c);
}

lb_compare_outcome lb_comparison_outcome(const lb_comparison *c)
{
    if (c->count[LB_REGRESSED]) return LB_COMPARE_REGRESSION;
    if (c->count[LB_INCONCLUSIVE]) return LB_COMPARE_INCONCLUSIVE;
    return LB_COMPARE_PASS;
}

/* ---------------------------------------------------------- rendering -- */

void lb_compare_row_cells(const lb_compare_row *r, char *base, char *next, char *ratio,
                          char *change, char *p, size_t len)
{
    if (r->metric) {
        lb_metric_format(r->metric, r->base_null ? NAN : r->base, base, len);
        lb_metric_format(r->metric, r->new_null ? NAN : r->next, next, len);
    } else {
        snprintf(base, len, "-");
        snprintf(next, len, "-");
    }
    if (isnan(r->ratio))
        snprintf(ratio, len, "-");
    else
        snprintf(ratio, len, "%.3f", r->ratio);
    if (isnan(r->change))
        snprintf(change, len, "-");
    else if (isinf(r->change))
        snprintf(change, len, "%s", r->change > 0 ? "+inf" : "-inf");
    else
        snprintf(change, len, "%+.1f%%", r->change * 100);
    if (r->tested)
        snprintf(p, len, "%.3g", r->p);
    else
        snprintf(p, len, "-");
}

/* A verdict's tone: only gated verdicts get the loud colours. */
static lb_tone verdict_tone(const lb_compare_row *r)
{
    if (r->info || r->verdict == LB_UNCHANGED) return LB_TONE_DIM;
    return r->verdict == LB_IMPROVED    ? LB_TONE_IMPROVED
           : r->verdict == LB_REGRESSED ? LB_TONE_REGRESSED
                                        : LB_TONE_UNSURE;
}

/* "REGRESSED" for a gated regression, "improved (info)" for a volatile
 * metric's change, else the verdict's name. */
static void verdict_text(const lb_compare_row *r, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s",
             r->verdict == LB_REGRESSED && !r->info ? "REGRESSED" : lb_verdict_name(r->verdict),
             r->info && r->verdict != LB_UNCHANGED ? " (info)" : "");
}

/* Columns s takes: UTF-8 continuation bytes take none ("µs"). */
static int columns_of(const char *s)
{
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

#define CELL_LEN 160 /* a scenario name (128) or a formatted value */
enum { COL_SCENARIO, COL_VARIANT, COL_METRIC, COL_BASE, COL_NEW, COL_CHANGE, COL_VERDICT, N_COLS };

/* The cells of one row of the terminal table (the "why" column apart). */
static void row_texts(const lb_compare_row *r, char cells[N_COLS][CELL_LEN])
{
    char ratio[CELL_LEN], p[CELL_LEN];
    snprintf(cells[COL_SCENARIO], CELL_LEN, "%s", r->scenario);
    snprintf(cells[COL_VARIANT], CELL_LEN, "%s", r->variant);
    snprintf(cells[COL_METRIC], CELL_LEN, "%s", r->metric ? r->metric->name : "-");
    lb_compare_row_cells(r, cells[COL_BASE], cells[COL_NEW], ratio, cells[COL_CHANGE], p, CELL_LEN);
    verdict_text(r, cells[COL_VERDICT], CELL_LEN);
}

static void pad_to(FILE *out, const char *text, int width, bool right)
{
    int gap = width - columns_of(text);
    if (right)
        fprintf(out, "%*s%s", gap > 0 ? gap : 0, "", text);
    else
        fprintf(out, "%s%*s", text, gap > 0 ? gap : 0, "");
}

/* Where why goes on a narrow terminal: its own lines under the row,
 * from this column. */
#define WHY_INDENT 4

/* One line of the table: the cells padded to their column, the variant
 * and the verdict in colour, then why (beside them, or when why_below
 * under them, wrapped at columns; the header then has no why). */
static void print_line(FILE *out, char cells[N_COLS][CELL_LEN], const int *w, const char *why,
                       const lb_compare_row *r, bool color, bool why_below, int columns)
{
    static const bool right[N_COLS] = {[COL_BASE] = true, [COL_NEW] = true, [COL_CHANGE] = true};
    for (int c = 0; c < N_COLS; c++) {
        lb_tone tone = !r                 ? LB_TONE_COUNT
                       : c == COL_VARIANT ? lb_color_variant_tone(r->variant)
                       : c == COL_VERDICT ? verdict_tone(r)
                                          : LB_TONE_COUNT;
        bool paint = color && tone != LB_TONE_COUNT;
        fputs(lb_color_start(paint, tone), out);
        bool last = c == N_COLS - 1 && why_below; /* no padding at the line's end */
        pad_to(out, cells[c], last ? 0 : w[c], right[c]);
        fputs(lb_color_end(paint), out);
        if (c < N_COLS - 1 || !why_below) fputs("  ", out);
    }
    if (!why_below) {
        fprintf(out, "%s\n", why);
        return;
    }
    fputc('\n', out);
    if (!r || !why || !*why) return;
    fprintf(out, "%*s", WHY_INDENT, "");
    lb_text_wrap(out, why, WHY_INDENT, WHY_INDENT, columns);
}

/* "1.50 ± 0.04 times higher than base" for row r (ratio known, > 0):
 * always a factor >= 1, as hyperfine writes it. */
static void factor_text(const lb_compare_row *r, char *buf, size_t n)
{
    double f = r->ratio, sd = r->ratio_sd;
    bool higher = f >= 1;
    if (!higher) {
        sd = sd / (f * f); /* the spread of 1 / ratio */
        f = 1 / f;
    }
    char spread[48] = "";
    if (isfinite(sd)) snprintf(spread, sizeof spread, " ± %.2f", sd);
    snprintf(buf, n, "%.2f%s times %s than base", f, spread, higher ? "higher" : "lower");
}

/* The row of scenario name (from row index first on) that a summary line
 * names: the largest gated regression, else the largest gated
 * improvement, by the size of its factor; NULL when neither. */
static const lb_compare_row *headline_row(const lb_comparison *c, const char *name)
{
    const lb_compare_row *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const lb_compare_row *r = &c->rows[i];
        if (strcmp(r->scenario, name) || r->info || !r->metric) continue;
        if (r->verdict != LB_REGRESSED && r->verdict != LB_IMPROVED) continue;
        double size = r->ratio > 0 && isfinite(r->ratio) ? fabs(log(r->ratio)) : INFINITY;
        double best_size = !best                                      ? -1
                           : best->ratio > 0 && isfinite(best->ratio) ? fabs(log(best->ratio))
                                                                      : INFINITY;
        bool worse = r->verdict == LB_REGRESSED && (!best || best->verdict != LB_REGRESSED);
        if (!best || worse || (r->verdict == best->verdict && size > best_size)) best = r;
    }
    return best;
}

/* One line per scenario, in the order they were compared. */
static void scenario_summaries(FILE *out, const lb_comparison *c, bool color)
{
    for (size_t i = 0; i < c->n; i++) {
        const char *name = c->rows[i].scenario;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) seen = !strcmp(c->rows[k].scenario, name);
        if (seen) continue;
        size_t count[4] = {0};
        for (size_t k = i; k < c->n; k++)
            if (!strcmp(c->rows[k].scenario, name) && !c->rows[k].info) count[c->rows[k].verdict]++;
        fprintf(out, "%s: ", name);
        const lb_compare_row *r = headline_row(c, name);
        if (r) {
            char what[160], base[64], next[64], ratio[64], change[64], p[64];
            if (r->ratio > 0 && isfinite(r->ratio)) {
                factor_text(r, what, sizeof what);
            } else {
                lb_compare_row_cells(r, base, next, ratio, change, p, sizeof base);
                snprintf(what, sizeof what, "%s, base %s", next, base);
            }
            fprintf(out, "%s%s%s %s %s (%s%s%s); ",
                    lb_color_start(color, lb_color_variant_tone(r->variant)), r->variant,
                    lb_color_end(color), r->metric->name, what,
                    lb_color_start(color, verdict_tone(r)), lb_verdict_name(r->verdict),
                    lb_color_end(color));
        } else if (!count[LB_INCONCLUSIVE]) {
            fprintf(out, "no gated metric changed beyond noise; ");
        }
        fprintf(out, "%zu regressed, %zu improved, %zu inconclusive, %zu unchanged\n",
                count[LB_REGRESSED], count[LB_IMPROVED], count[LB_INCONCLUSIVE],
                count[LB_UNCHANGED]);
    }
}

static void summary_line(FILE *out, const lb_comparison *c, bool color)
{
    lb_compare_outcome outcome = lb_comparison_outcome(c);
    lb_tone tone = outcome == LB_COMPARE_REGRESSION     ? LB_TONE_REGRESSED
                   : outcome == LB_COMPARE_INCONCLUSIVE ? LB_TONE_UNSURE
                                                        : LB_TONE_PASS;
    fprintf(out,
            "%zu regressed, %zu improved, %zu unchanged, %zu inconclusive; %zu volatile "
            "metrics changed (info, not gated): %s%s%s\n",
            c->count[LB_REGRESSED], c->count[LB_IMPROVED], c->count[LB_UNCHANGED],
            c->count[LB_INCONCLUSIVE], c->info_changed, lb_color_start(color, tone),
            outcome == LB_COMPARE_REGRESSION     ? "REGRESSION"
            : outcome == LB_COMPARE_INCONCLUSIVE ? "inconclusive"
                                                 : "pass",
            lb_color_end(color));
}

void lb_comparison_print(FILE *out, const lb_comparison *c, const char *base_name,
                         const char *new_name, const lb_compare_view *view)
{
    bool color = view->color;
    fprintf(out, "leakbench compare: base %s, new %s (alpha %g, noise %g%%)\n", base_name, new_name,
            c->opts.alpha, c->opts.noise * 100);
    char head[N_COLS][CELL_LEN] = {"scenario", "variant", "metric", "base",
                                   "new",      "change",  "verdict"};
    char cells[N_COLS][CELL_LEN];
    int w[N_COLS];
    for (int k = 0; k < N_COLS; k++) w[k] = columns_of(head[k]);
    size_t shown = 0;
    int why_width = columns_of("why");
    for (size_t i = 0; i < c->n; i++) {
        if (!view->all && c->rows[i].verdict == LB_UNCHANGED) continue;
        row_texts(&c->rows[i], cells);
        for (int k = 0; k < N_COLS; k++)
            if (columns_of(cells[k]) > w[k]) w[k] = columns_of(cells[k]);
        if (columns_of(c->rows[i].note) > why_width) why_width = columns_of(c->rows[i].note);
        shown++;
    }
    if (shown) {
        /* On a terminal too narrow for a row and its why, why goes under
         * each row. */
        int row_width = 0;
        for (int k = 0; k < N_COLS; k++) row_width += w[k] + 2;
        bool why_below = view->columns > 0 && row_width + why_width > view->columns;
        print_line(out, head, w, "why", NULL, false, why_below, view->columns);
        for (size_t i = 0; i < c->n; i++) {
            const lb_compare_row *r = &c->rows[i];
            if (!view->all && r->verdict == LB_UNCHANGED) continue;
            row_texts(r, cells);
            print_line(out, cells, w, r->note, r, color, why_below, view->columns);
        }
    } else {
        fprintf(out, "(every metric unchanged; --all shows them)\n");
    }
    fputc('\n', out);
    scenario_summaries(out, c, color);
    if (c->notes[0]) fprintf(out, "note: %s", c->notes);
    summary_line(out, c, color);
}

/* Writes s with Markdown table metacharacters escaped. */
static void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '\\' || *s == '*' || *s == '_' || *s == '`' || *s == '<' ||
            *s == '>' || *s == '[' || *s == ']')
            fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
}

/* Writes s as a Markdown code span: nothing inside is interpreted, so
 * only backticks (which would end it), '|' (which would end a table cell)
 * and newlines need replacing. */
static void md_code(FILE *f, const char *s)
{
    fputc('`', f);
    for (; *s; s++) fputc(*s == '`' ? '\'' : *s == '|' ? '/' : *s == '\n' ? ' ' : *s, f);
    fputc('`', f);
}

int lb_comparison_write_markdown(const char *path, const lb_comparison *c, const char *base_name,
                                 const char *new_name, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    lb_compare_outcome outcome = lb_comparison_outcome(c);
    fprintf(f, "## leakbench compare: %s\n\n",
            outcome == LB_COMPARE_REGRESSION     ? "regression"
            : outcome == LB_COMPARE_INCONCLUSIVE ? "inconclusive"
                                                 : "pass");
    fprintf(f, "Base ");
    md_code(f, base_name);
    fprintf(f, ", new ");
    md_code(f, new_name);
    fprintf(f, "; significance level %g, noise threshold %g%%.\n\n", c->opts.alpha,
            c->opts.noise * 100);
    fprintf(f,
            "**%zu regressed**, %zu improved, %zu unchanged, %zu inconclusive; %zu volatile "
            "metrics (CPU time, latency p99.9/max, marked info) changed, not gated.\n\n",
            c->count[LB_REGRESSED], c->count[LB_IMPROVED], c->count[LB_UNCHANGED],
            c->count[LB_INCONCLUSIVE], c->info_changed);
    if (c->notes[0]) {
        fprintf(f, "> Note: ");
        md_text(f, c->notes);
        fprintf(f, "\n\n");
    }
    fprintf(f, "| scenario | variant | metric | base | new | ratio | change | p | verdict | why |\n"
               "|---|---|---|--:|--:|--:|--:|--:|---|---|\n");
    for (size_t i = 0; i < c->n; i++) {
        const lb_compare_row *r = &c->rows[i];
        char b[48], n[48], ratio[48], change[48], p[48];
        lb_compare_row_cells(r, b, n, ratio, change, p, sizeof b);
        fprintf(f, "| ");
        md_text(f, r->scenario);
        fprintf(f, " | %s | ", r->variant);
        md_text(f, r->metric ? r->metric->name : "-");
        bool bold = r->verdict == LB_REGRESSED && !r->info;
        fprintf(f, " | %s | %s | %s | %s | %s | %s%s%s%s | ", b, n, ratio, change, p,
                bold ? "**" : "", lb_verdict_name(r->verdict), bold ? "**" : "",
                r->info ? " (info)" : "");
        md_text(f, r->note);
        fprintf(f, " |\n");
    }
    fprintf(f, "\nMethod: per metric, the medians of both runs; a change counts only beyond "
               "the noise threshold and the metric's noise floor; with enough repetitions "
               "(both sides >= 2 and 2/C(n1+n2, n1) <= alpha) a two-sided Mann-Whitney U test "
               "must also find it significant.\n");
    if (fclose(f)) {
        free(buf);
        return -ENOMEM;
    }
    int rc = lb_write_user_file(path, buf, len, err, errlen);
    free(buf);
    return rc;
}
