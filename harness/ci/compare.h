/*
 * compare.h — metric-by-metric comparison of two results files (a base
 * and a new run): what improved, what regressed, what did not change and
 * what cannot be told apart from noise.
 *
 * For every scenario present in both files, each variant and each metric
 * of the catalogue with a direction (metric.h), a row holds the base and
 * new medians, their ratio, the relative change and a verdict:
 *
 *   change beyond noise  = |new - base| > noise * |base|  and
 *                          |new - base| > the metric's noise floor
 *                          (noise: the A/A run's max_rel for the scenario,
 *                          variant and metric when opts.noise_from has
 *                          one, else opts.noise)
 *   U test usable        = both sides have >= 2 per-run values and the
 *                          smallest p the test can reach, 2 / C(nb+nn, nb),
 *                          is <= alpha (so 4+4, 3+5, 2+8 runs; not 3+3)
 *
 *   with the U test:     not beyond noise          -> unchanged
 *                        beyond noise, p <= alpha  -> improved / regressed
 *                        beyond noise, p > alpha   -> inconclusive
 *   without it:          beyond noise              -> improved / regressed
 *                        otherwise                 -> unchanged
 *   a null median on one side only (not measured)  -> inconclusive
 *   null on both sides                             -> unchanged
 *   a scenario or variant missing from the new run -> inconclusive
 *
 * Improved or regressed follows the metric's direction (lower is better
 * for tasks, memory, times, leaks; higher for throughput, recovered,
 * completed).  Exit code: 1 if anything regressed, else 4 if anything is
 * inconclusive, else 0 — counting only gated metrics: CPU time and the
 * latency tail are shown with their verdict marked "info" unless
 * all_metrics is set (see lb_metric_gated).
 */
#ifndef LEAKBENCH_COMPARE_H
#define LEAKBENCH_COMPARE_H

#include "core/metric.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum lb_verdict {
    LB_UNCHANGED,
    LB_IMPROVED,
    LB_REGRESSED,
    LB_INCONCLUSIVE,
} lb_verdict;
const char *lb_verdict_name(lb_verdict v); /* "unchanged", "improved", ... */

typedef struct lb_compare_opts {
    double alpha;     /* significance level of the U test, default 0.05 */
    double noise;     /* relative change always treated as noise, default 0.05 */
    bool all_metrics; /* also gate on the volatile metrics (lb_metric_gated) */
    /* A/A results (aa_noise.h) per variant, in lb_variants order, or NULL:
     * where one measured a scenario's metric, its max_rel replaces noise
     * for that row (--noise-from). */
    const json_t *noise_from[2];
} lb_compare_opts;
#define LB_COMPARE_DEFAULTS                                                                        \
    {                                                                                              \
        .alpha = 0.05, .noise = 0.05, .all_metrics = false                                         \
    }

typedef struct lb_compare_row {
    char scenario[128];
    const char *variant;         /* lb_variants[...] */
    const lb_metric_def *metric; /* NULL for a scenario missing from the new run */
    bool base_null, new_null;    /* median not measured */
    double base, next;           /* medians */
    double ratio;                /* next / base; NAN when undefined */
    double ratio_sd;             /* its standard deviation, propagated from both sides'
                                    relative ones (as hyperfine does); NAN below 2+2 runs */
    double change;               /* (next - base) / |base|; +-INFINITY when base is 0 */
    size_t n_base, n_new;        /* per-run values */
    bool tested;                 /* the U test was used */
    double p;                    /* its p-value (NAN when not tested) */
    double delta;                /* Cliff's delta new vs base (NAN when not tested) */
    lb_verdict verdict;
    bool info;      /* volatile metric: shown, not counted in the exit code */
    char note[200]; /* why, in words */
} lb_compare_row;

typedef struct lb_comparison {
    lb_compare_opts opts;
    lb_compare_row *rows;
    size_t n, cap;
    size_t count[4];     /* gated rows per verdict (what the exit code uses) */
    size_t info_changed; /* volatile-metric rows that are not unchanged */
    char notes[1024];    /* warnings about the inputs (specs differ, ...) */
} lb_comparison;

/* Compares two validated results documents (run/results_load.h loads
 * files).  0 or -ENOMEM. */
int lb_compare(const json_t *base, const json_t *next, const lb_compare_opts *opts,
               lb_comparison *out);
void lb_comparison_free(lb_comparison *c);
/* The comparison's overall verdict; the CLI maps it to an exit code
 * (harness/cli/exit_codes.c). */
typedef enum lb_compare_outcome {
    LB_COMPARE_PASS = 0,     /* nothing regressed, nothing inconclusive */
    LB_COMPARE_REGRESSION,   /* at least one gated metric regressed */
    LB_COMPARE_INCONCLUSIVE, /* no regression, but something could not be decided */
} lb_compare_outcome;
lb_compare_outcome lb_comparison_outcome(const lb_comparison *c);

/* How the terminal table is shown. */
typedef struct lb_compare_view {
    bool all;    /* every row, not only those that are not unchanged */
    bool color;  /* verdicts and variants in colour (core/color.h) */
    int columns; /* the terminal's width: a row with its why wider than this
                    puts why on lines of its own under it; 0: one line a row */
} lb_compare_view;

/* The terminal view: the rows that changed (every row with view->all),
 * with a "why" column (noise threshold and floor, whether the U test
 * could be used at these repetition counts, its p); then one line per
 * scenario in hyperfine's style, naming its largest gated change:
 *   timeout_leak: graceful peak_tasks 1.50 ± 0.04 times higher than base
 *   (regressed); 1 regressed, 0 improved, 27 unchanged
 * and the overall summary. */
void lb_comparison_print(FILE *out, const lb_comparison *c, const char *base_name,
                         const char *new_name, const lb_compare_view *view);
/* Markdown report, written atomically. */
int lb_comparison_write_markdown(const char *path, const lb_comparison *c, const char *base_name,
                                 const char *new_name, char *err, size_t errlen);
/* Formats one row's cells (shared by the terminal, Markdown and JUnit). */
void lb_compare_row_cells(const lb_compare_row *r, char *base, char *next, char *ratio,
                          char *change, char *p, size_t len);

#endif
