/*
 * report.h — renders a run directory's human-facing outputs from its
 * results document (schema: README "Results"): the one `run` built
 * in memory, or one loaded from results.json (run/results_load.h):
 *
 *   report.md     Markdown: before/after table, accounting, leak report,
 *                 charts, environment (renders on a code-hosting site and
 *                 as a CI job summary)
 *   report.html   the same content in one self-contained file, charts
 *                 inlined as SVG
 *   --summary     the CI job-summary form (report_summary.c): Markdown
 *                 without images, with sparklines of live tasks
 *   charts/       <slug>-{tasks,rss,states,latency,summary}.{png,svg},
 *                 plus what made them: charts.gp, the templates in
 *                 plots/, the data in data/ — `cd charts && gnuplot charts.gp`
 *                 redraws them
 *
 * A results file is validated completely before anything is written, so
 * a bad one leaves the output directory untouched.  Every file is
 * written to a temporary name and renamed into place.  Charts come from
 * one gnuplot process started with fork + execvp (never a shell); strings
 * from the results file reach its script only inside escaped single-quoted
 * literals.  Used by `leakbench report` and at the end of `leakbench run`.
 */
#ifndef LEAKBENCH_REPORT_H
#define LEAKBENCH_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum lb_charts_outcome {
    LB_CHARTS_RENDERED = 0,  /* every chart was drawn */
    LB_CHARTS_NO_GNUPLOT,    /* gnuplot is not on PATH: data and script written, no images */
    LB_CHARTS_FAILED,        /* gnuplot ran and failed (message says why) */
    LB_CHARTS_NOT_REQUESTED, /* opts.charts was false */
} lb_charts_outcome;

typedef struct lb_report_opts {
    bool charts;           /* run gnuplot (default true) */
    int gnuplot_timeout_s; /* kill gnuplot after this long; 0 means 120 s */
} lb_report_opts;

typedef struct lb_report_result {
    bool input_error;         /* the results file was missing, unreadable or invalid */
    bool written;             /* report.md and report.html were written */
    bool charts_unwritten;    /* chart files could not be written whole (a full disk), as
                                 opposed to gnuplot failing or missing */
    lb_charts_outcome charts; /* what happened to the charts */
    int n_charts;             /* charts rendered (each as PNG and SVG) */
    char message[1024]; /* on error or skipped charts: what happened, naming file and position */
} lb_report_result;

/* Writes report.md, report.html and charts/ for DOC — a results document
 * built by `run` (run/results.h) or loaded and validated by
 * lb_results_load — into OUT_DIR (created if missing).  Returns 0 when
 * the report was written (check res->charts: charts may have been
 * skipped), or a negative errno for I/O errors; res->message explains. */
int lb_report_render(const json_t *doc, const char *out_dir, const lb_report_opts *opts,
                     lb_report_result *res);

/* Loads RESULTS_PATH (a results file or a run directory) through
 * lb_results_load and renders it with lb_report_render.  A bad input is
 * -EINVAL with res->input_error and the loader's message (nothing
 * written). */
int lb_report_render_file(const char *results_path, const char *out_dir, const lb_report_opts *opts,
                          lb_report_result *res);

/* Writes the CI job-summary form of DOC (Markdown, no images: status
 * line, verdicts, thresholds, a sparkline of live tasks per side) to PATH
 * by temp file + rename, or to stdout if PATH is "-".  Returns 0 or
 * -errno with res->message (report_summary.c). */
int lb_report_summary_write(const json_t *doc, const char *path, lb_report_result *res);
/* Loads RESULTS_PATH like lb_report_render_file and writes its summary
 * to PATH; a bad input is -EINVAL with res->input_error. */
int lb_report_summary_file(const char *results_path, const char *path, lb_report_result *res);

#endif
