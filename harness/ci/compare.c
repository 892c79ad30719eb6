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
    r->p = r->delta = r->ratio = r->change = NAN;
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

/* A verdict's tone: only gated verdicts get the loud colours. */
static lb_tone verdict_tone(const lb_compare_row *r)
{
    if (r->info || r->verdict == LB_UNCHANGED) return LB_TONE_DIM;
    return r->verdict == LB_IMPROVED    ? LB_TONE_IMPROVED
           : r->verdict == LB_REGRESSED ? LB_TONE_REGRESSED
                                        : LB_TONE_UNSURE;
}

void lb_comparison_print(FILE *out, const lb_comparison *c, const char *base_name,
                         const char *new_name, const lb_compare_view *view)
{
    bool only_changed = view->only_changed, color = view->color;
    fprintf(out, "leakbench compare: base %s, new %s (alpha %g, noise %g%%)\n", base_name, new_name,
            c->opts.alpha, c->opts.noise * 100);
    fprintf(out, "%-20s %-8s %-22s %14s %14s %8s %8s %8s  %s\n", "scenario", "variant", "metric",
            "base", "new", "ratio", "change", "p", "verdict");
    size_t shown = 0;
    for (size_t i = 0; i < c->n; i++) {
        const lb_compare_row *r = &c->rows[i];
        if (only_changed && r->verdict == LB_UNCHANGED) continue;
        char b[48], n[48], ratio[48], change[48], p[48];
        lb_compare_row_cells(r, b, n, ratio, change, p, sizeof b);
        lb_tone vt = lb_color_variant_tone(r->variant);
        fprintf(out, "%-20s %s%-8s%s %-22s %14s %14s %8s %8s %8s  %s%s%s%s%s%s\n", r->scenario,
                lb_color_start(color, vt), r->variant, lb_color_end(color),
                r->metric ? r->metric->name : "-", b, n, ratio, change, p,
                lb_color_start(color, verdict_tone(r)),
                r->verdict == LB_REGRESSED && !r->info ? "REGRESSED" : lb_verdict_name(r->verdict),
                lb_color_end(color), r->info && r->verdict != LB_UNCHANGED ? " (info)" : "",
                r->verdict == LB_UNCHANGED ? "" : ": ", r->verdict == LB_UNCHANGED ? "" : r->note);
        shown++;
    }
    if (only_changed && !shown) fprintf(out, "(every metric unchanged)\n");
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
