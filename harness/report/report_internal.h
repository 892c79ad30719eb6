/*
 * report_internal.h — the pieces behind report.h, shared by report.c
 * (orchestration and the document's content), report_scenario.c (the
 * content about one scenario), report_verdict.c (the status line and
 * per-scenario verdicts a report opens with), report_summary.c (the CI
 * job summary and its sparklines), report_fmt.c (slugs and escaping for
 * Markdown and HTML), report_text.c,
 * report_md.c and report_html.c (the document back-ends), table.c (the
 * terminal view) and plot.c (charts, drawn through gnuplot.h).
 *
 * The content is written once against a small document interface
 * (lb_doc_ops): the report's in report.c, the per-scenario tables and the
 * leak report in report_scenario.c, which the terminal view (table.c)
 * shares.  The plain-text (report_text.c), Markdown and HTML back-ends
 * decide how headings, tables and charts look and do their own escaping,
 * so the terminal, report.md and report.html always say the same thing.
 * Text handed to the interface is plain text, never markup.
 */
#ifndef LEAKBENCH_REPORT_INTERNAL_H
#define LEAKBENCH_REPORT_INTERNAL_H

#include "report.h"
#include "core/jsonutil.h"
#include "core/units.h"
#include "run/results_load.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* ------------------------------------------------------ results.json -- */

/* The document's accessors: lb_jnum, lb_jpath ... (core/jsonutil.h) and
 * lb_scenario_run, lb_scenario_metric ... (run/results_load.h). */

/* ------------------------------------------------------- formatting -- */

/* Numbers (lb_fmt_count, lb_fmt_bytes, lb_fmt_ms, ...) come from
 * core/units.h, one unit system for every view. */

/* A file-name-safe slug: [A-Za-z0-9_-] kept, everything else '_', at most
 * 40 characters, never empty. */
void lb_slug(char *buf, size_t n, const char *s);

/* Escapers append to an open stream. */
void lb_escape_md(FILE *f, const char *s); /* inline text; newlines become spaces */
void lb_escape_html(FILE *f, const char *s);

/* -------------------------------------------------------- documents -- */

typedef enum lb_align { LB_LEFT, LB_RIGHT } lb_align;

typedef struct lb_doc lb_doc;
typedef struct lb_scenario_verdict lb_scenario_verdict;
typedef enum lb_status_state { LB_STATUS_NONE, LB_STATUS_PASS, LB_STATUS_FAIL } lb_status_state;
typedef struct lb_doc_ops {
    void (*begin)(lb_doc *d, const char *title);
    void (*heading)(lb_doc *d, int level, const char *text, const char *anchor);
    void (*para)(lb_doc *d, const char *text);
    void (*warning)(lb_doc *d, const char *text); /* a callout: interrupted run, skipped charts */
    void (*field)(lb_doc *d, const char *label, const char *value); /* "label: value" line */
    void (*fields_end)(lb_doc *d);
    void (*table_begin)(lb_doc *d, int ncols, const char *const *header, const lb_align *align);
    void (*table_row)(lb_doc *d, const char *const *cells);
    void (*table_end)(lb_doc *d);
    /* charts/<base>.png and .svg; only called for charts that exist */
    void (*chart)(lb_doc *d, const char *base, const char *alt);
    /* Optional (NULL: the content falls back to a paragraph and a table):
     * the run's one-line status, and the per-scenario verdicts. */
    void (*status)(lb_doc *d, lb_status_state state, const char *word, const char *text);
    void (*verdicts)(lb_doc *d, const lb_scenario_verdict *v, size_t n);
    void (*end)(lb_doc *d);
} lb_doc_ops;

struct lb_doc {
    const lb_doc_ops *ops;
    FILE *out;             /* the document being built (a memory stream) */
    const char *out_dir;   /* where charts/ lives, for back-ends that inline */
    const json_t *root;    /* the results document, or NULL: an A/A run's labels */
    int ncols;             /* columns of the open table */
    const lb_align *align; /* alignment of the open table's columns */
    bool in_list;          /* a run of fields is open */
    int seq;               /* charts emitted so far */
    int err;               /* first error a back-end met (-errno), 0 if none */
    void *table;           /* a back-end's open table (text keeps rows to size columns) */
    bool color;            /* text back-end: paint the twins' names (core/color.h) */
    int columns;           /* text back-end: where paragraphs and fields wrap; 0: 100 */
};

extern const lb_doc_ops lb_doc_text; /* the terminal: aligned pipe tables, no charts */
extern const lb_doc_ops lb_doc_markdown;
extern const lb_doc_ops lb_doc_html;

/* What the content needs to know about the charts. */
typedef struct lb_chart_info {
    lb_charts_outcome outcome;
    const char *message; /* why charts are missing, or NULL */
} lb_chart_info;

/* Loads RESULTS_PATH (a results file or a run directory) through
 * lb_results_load into *DOC: 0, or -EINVAL with res->input_error and the
 * loader's message, or -ENOMEM (report.c). */
int lb_report_load(const char *results_path, json_t **doc, lb_report_result *res);

/* Writes the whole report for ROOT through DOC (report.c). */
void lb_report_write_doc(lb_doc *doc, const json_t *root, const lb_chart_info *charts);
/* The "description" of each spec or suite file the run was given (the
 * document's spec.descriptions): one paragraph each, led by the file's
 * path when there are several. */
void lb_view_spec_descriptions(lb_doc *d, const json_t *root);

/* ------------------------------------------------ scenario content -- */

/* The before/after table of one results scenario: the six headline rows
 * (peak tasks, memory, recovery, leaked tasks, shutdown, guard) and, if
 * details_too, the detail rows (threads, throughput, latency, CPU). */
void lb_view_before_after(lb_doc *d, const json_t *scenario, bool details_too);
/* The request accounting of every run, one row each. */
void lb_view_accounting(lb_doc *d, const json_t *scenario);
/* The leak report of the first run of each variant that left tasks
 * behind: the max_groups largest groups (all if max_groups <= 0). */
void lb_view_leak_report(lb_doc *d, const json_t *scenario, int max_groups);

/* How many repetitions of VARIANT recovered: *yes of *total (runs with a
 * verdict). */
void lb_recovered_counts(const json_t *scenario, const char *variant, int *yes, int *total);
/* A guard's value or limit in its kind's unit: memory "4 GiB", tasks
 * "500 tasks", wall (ms) "30 s". */
char *lb_fmt_guard_value(char *buf, size_t n, const char *kind, double value);
/* "killed by the memory guard at 3.2 s, 4 GiB" for a run a guard killed,
 * else "". */
void lb_guard_note(char *buf, size_t n, const json_t *run);

/* No live-task reading for variant v (0 leaky, 1 graceful): an external
 * target's probe `none`, or a probe whose every reading failed; nothing
 * to call controlled, unbounded or recovered. */
bool lb_no_task_reading(const json_t *scenario, int v);

/* Why variant v's recovery cannot be held against it — "no live-task
 * reading", "the run was interrupted", "the load generator fell behind" —
 * or NULL when its recovery (or the lack of one) is the pipeline's.  The
 * before/after table and the verdict cards both ask here. */
const char *lb_recovery_unjudged(const json_t *scenario, int v);

/* What a scenario's live tasks are called: "goroutines" for a target
 * read by the go_pprof probe, "threads" under the threads probe, else
 * "tasks". */
const char *lb_task_noun(const json_t *scenario);

/* -------------------------------------------------------- verdicts -- */

/* The headline facts of one side of a scenario, formatted. */
typedef struct lb_scenario_side {
    const char *label;       /* "leaky (before fix)", or "A (graceful)" in an A/A run */
    const char *short_label; /* "leaky", or "A" in an A/A run */
    char peak_tasks[64];     /* "54,072" */
    char memory[64];         /* peak RSS, "3.5 GiB" */
    char recovery[64];       /* "88.4 ms", "restart required", "n/a" */
    bool restart_required;   /* no repetition got back to its baseline */
} lb_scenario_side;

/* One scenario's verdict (report_verdict.c): its thresholds' outcome and
 * the headline facts of both sides. */
struct lb_scenario_verdict {
    const char *scenario;     /* name */
    const char *noun;         /* lb_task_noun */
    lb_status_state state;    /* FAIL if a threshold failed, PASS if all passed, else NONE */
    char word[16];            /* "pass", "FAIL", "no thresholds" */
    char detail[96];          /* "2 of 2 thresholds passed" */
    lb_scenario_side side[2]; /* [0] the leaky slot, [1] the graceful slot */
};

/* The labels of the two variant slots: "leaky (before fix)" and
 * "graceful (after fix)", or "A (graceful)" and "B (graceful)" for an
 * A/A run (results "aa"). */
const char *lb_side_label(const json_t *root, int slot);

/* Fills V (n entries, one per scenario of ROOT, in order).  */
void lb_verdicts_build(const json_t *root, lb_scenario_verdict *v, size_t n);
/* The run's status: the state, its word ("PASS", "FAIL", "NO THRESHOLDS",
 * "INTERRUPTED") and a sentence ("3 scenarios, 4 of 5 thresholds
 * passed"). */
lb_status_state lb_run_status(const json_t *root, char *word, size_t wn, char *text, size_t tn);
/* The status line and the verdict per scenario, through DOC. */
void lb_view_verdicts(lb_doc *d, const json_t *root);
/* The thresholds table: scenario, metric, rule, measured, verdict
 * (report.c). */
void lb_view_thresholds(lb_doc *d, const json_t *list);

/* ------------------------------------------------------ CI summary -- */

/* A Unicode sparkline (▁▂▃▄▅▆▇█) of VALUES (count of them) in WIDTH
 * characters at most: each character is the largest value of its slice
 * (a spike is never averaged away), scaled from LO (▁) to HI (█); a NaN
 * LO or HI is taken from the values.  A slice of NaNs only is a space;
 * a series with no range is all ▁.  Writes "" for no values.  Returns
 * BUF. */
char *lb_sparkline(char *buf, size_t n, const double *values, size_t count, int width, double lo,
                   double hi);

/* Writes the CI job-summary form of the report for ROOT through DOC: the
 * status, the verdicts, thresholds and per scenario a sparkline of live
 * tasks for each variant; no images (report_summary.c). */
void lb_report_write_summary_doc(lb_doc *d, const json_t *root);

/* ----------------------------------------------------------- charts -- */

/* The charts drawn per scenario (plot.c's lb_charts describes each). */
typedef enum lb_chart_kind {
    LB_CHART_TASKS,   /* live tasks over time */
    LB_CHART_RSS,     /* resident memory over time */
    LB_CHART_STATES,  /* tasks by state, stacked */
    LB_CHART_LATENCY, /* completed requests' latency by percentile */
    LB_CHART_SUMMARY, /* before/after bars */
    LB_CHART_KINDS
} lb_chart_kind;

typedef struct lb_chart_def {
    const char *suffix;        /* file name: "<slug>-<suffix>.png" */
    const char *alt;           /* alt text in the reports */
    const char *template_file; /* plots/<template_file> */
    int width, height;         /* pixels */
} lb_chart_def;
extern const lb_chart_def lb_charts[LB_CHART_KINDS];

/* The completed requests' latency of one variant of a scenario, its
 * repetitions merged, and their outcome split (latency_curve.c). */
typedef struct lb_latency_curve {
    int runs;            /* the variant's repetitions */
    bool have_histogram; /* every one carries metrics.latency_completed_ms (older files do not) */
    double submitted, completed, timed_out, other; /* accounting, summed over the runs */
    double count;                                  /* completed requests in the histogram */
    double max_ms;                                 /* the largest, NaN if none */
    struct bucket *buckets;                        /* merged, ascending */
    size_t n;
} lb_latency_curve;
/* Fills C for VARIANT of SCENARIO (a validated document).  0 or -ENOMEM;
 * free C with lb_latency_curve_free either way. */
int lb_latency_curve_of(const json_t *scenario, const char *variant, lb_latency_curve *c);
void lb_latency_curve_free(lb_latency_curve *c);
/* Writes C as the gnuplot data of its percentile curve: a comment header,
 * then rows "percentile_pct tail_x latency_ms" (tail_x = 1/(1-p)), one per
 * non-empty bucket at the percentile where it starts and a last one where
 * the curve ends.  Returns that last tail_x, or NaN (no rows) when C has
 * no completed request. */
double lb_latency_curve_write(FILE *f, const lb_latency_curve *c);
/* "completed 45 % · timed out 55 %" (and "· other N %" for failed,
 * rejected, cancelled and unanswered requests), or "no requests". */
char *lb_latency_split_text(char *buf, size_t n, const lb_latency_curve *c);

/* The file base of chart KIND for scenario number I of ROOT:
 * "<slug>-<suffix>", the slug made unique among the scenarios. */
void lb_chart_base(char *buf, size_t n, const json_t *root, size_t i, lb_chart_kind kind);

/* Writes the data files (charts/data/), the templates (charts/plots/)
 * and charts/charts.gp into
 * OUT_DIR and, if RUN_GNUPLOT, renders every chart with one gnuplot
 * process (in a staging directory, then renamed into charts/).  Returns 0
 * or -errno; sets *outcome and, when charts are missing, msg; sets
 * *unwritten when chart files could not be written whole (a full disk:
 * cut-short images, data that did not fit), not when gnuplot failed. */
int lb_plot_render(const json_t *root, const char *out_dir, bool run_gnuplot, int timeout_s,
                   lb_charts_outcome *outcome, int *n_charts, bool *unwritten, char *msg,
                   size_t msglen);

#endif
