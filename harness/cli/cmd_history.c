/*
 * cmd_history.c — `leakbench history FILE`: prints a metric's trend over
 * the runs recorded by `run --history FILE`, plots it with gnuplot and
 * exports the latest entry for Bencher and github-action-benchmark.
 *
 * Files written into -o DIR (default reports/history), each atomically:
 *   trend.dat, trend.gp          data and gnuplot script (which loads
 *   plots/trend.gp, plots/style.gp  the templates, copied here)
 *   trend.png, trend.svg         the chart (when gnuplot is installed and
 *                                there is a number to plot)
 *   bmf.json                     Bencher Metric Format, latest entry
 *   benchmark-smaller.json       github-action-benchmark customSmallerIsBetter
 *   benchmark-bigger.json        github-action-benchmark customBiggerIsBetter
 *   changes.json                 with --detect: the change points per series
 * The steps: parse the options, read the history one line at a time into
 * a bounded trend (ci/history.h), print the table, write the exports,
 * draw the chart (lb_history_plot, through report/gnuplot.h: no shell,
 * quoted strings, a time and memory limit, staged images).  Exit: 0 (also
 * when there is nothing to plot: the message says so), 2 bad usage or
 * history file, 3 I/O error, 5 gnuplot missing or failed (data and
 * exports still written).
 */
#include "cli.h"
#include "options.h"
#include "ci/history.h"
#include "core/metric.h"
#include "core/outfile.h"
#include "core/threshold.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: leakbench history FILE [--metric VARIANT.METRIC] [--scenario NAME] [-o DIR]\n\n"
            "FILE holds one line per run, appended by `leakbench run --history FILE`.\n"
            "Prints the metric's value per commit for each scenario, plots it\n"
            "(DIR/trend.png, trend.svg) and exports the latest entry as Bencher BMF\n"
            "(DIR/bmf.json) and github-action-benchmark custom JSON\n"
            "(DIR/benchmark-smaller.json, DIR/benchmark-bigger.json).\n\n"
            "options:\n"
            "  --metric VARIANT.METRIC  what to plot (default graceful.peak_tasks)\n"
            "  --scenario NAME          only this scenario (default: all)\n"
            "  -o, --output DIR         where to write (default reports/history)\n"
            "  --detect                 find step changes per scenario (not single outliers,\n"
            "                           not a slow drift), print them, mark them on the\n"
            "                           chart and write DIR/changes.json\n"
            "  -h, --help               this text\n\n"
            "A long history is thinned to at most 1000 runs (every Nth and the newest).\n\n"
            "exit: 0 ok (also when the metric has nothing to plot), 2 bad usage or history\n"
            "file, 3 cannot write, 5 gnuplot missing or failed (data and exports written,\n"
            "chart skipped)\n");
}

static int write_json(const char *dir, const char *name, json_t *doc, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (!withnl) {
        free(text);
        return -ENOMEM;
    }
    withnl[len] = '\n';
    withnl[len + 1] = 0;
    int rc = lb_write_atomic(path, withnl, len + 1, err, errlen);
    free(withnl);
    return rc;
}

typedef struct history_opts {
    const char *file, *only, *dir, *variant;
    const lb_metric_def *metric;
    bool detect; /* --detect: find step changes, mark them, write changes.json */
} history_opts;

/* Parses the command line into O.  -1 to go on, else the exit code. */
static int parse_options(int argc, char **argv, history_opts *o)
{
    const char *metric_ref = "graceful.peak_tasks";
    static const struct option longopts[] = {
        {"metric", required_argument, NULL, 'm'}, {"scenario", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'}, {"detect", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *o = (history_opts){.dir = "reports/history"};
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            metric_ref = optarg;
            break;
        case 's':
            o->only = optarg;
            break;
        case 'o':
            o->dir = optarg;
            break;
        case 'd':
            o->detect = true;
            break;
        case 'h':
            usage(stdout);
            return LB_EXIT_OK;
        default:
            return lb_cli_bad_option(stderr, "history", opt, argv, longopts);
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "leakbench history: expected one history FILE\n");
        usage(stderr);
        return LB_EXIT_USAGE;
    }
    o->file = argv[optind];
    lb_threshold_error perr;
    if (lb_metric_ref_parse(metric_ref, &o->variant, &o->metric, &perr)) {
        fprintf(stderr, "leakbench history: --metric %s: character %zu: %s\n", metric_ref, perr.pos,
                perr.msg);
        return LB_EXIT_USAGE;
    }
    return -1;
}

/* The terminal table: one row per point, one column per scenario. */
static void print_table(const lb_history_trend *t, const history_opts *o)
{
    printf("%s.%s (%s) over %zu runs in %s", o->variant, o->metric->name, o->metric->unit, t->runs,
           o->file);
    if (t->stride > 1)
        printf(" (thinned to %zu: every %zu%s run and the newest)", t->n_points, t->stride,
               t->stride == 2 ? "nd" : "th");
    printf("\n%-7s %-10s %-22s", "#", "commit", "date");
    for (size_t k = 0; k < t->n_series; k++) printf(" %16.16s", t->series[k]);
    printf("\n");
    for (size_t i = 0; i < t->n_points; i++) {
        const lb_history_point *p = &t->points[i];
        printf("%-7zu %-10s %-22s", p->run, p->commit, p->date);
        for (size_t k = 0; k < t->n_series; k++) {
            char cell[48];
            if (p->cell[k] == LB_CELL_NUMBER)
                lb_metric_format(o->metric, p->value[k], cell, sizeof cell);
            else
                snprintf(cell, sizeof cell, p->cell[k] == LB_CELL_NULL ? "null" : "-");
            printf(" %16s", cell);
        }
        printf("\n");
    }
}

/* The change points found by --detect, one line each; a step in the
 * metric's worse direction is marked so. */
static void print_changes(const lb_history_trend *t, const history_opts *o)
{
    printf("\nchange points (--detect):\n");
    for (size_t k = 0; k < t->n_series; k++) {
        const lb_changepoint_result *r = &t->changes[k];
        if (!r->n_points) {
            char d[48];
            if (r->drift) lb_metric_format(o->metric, r->drift_per_point, d, sizeof d);
            printf("  %s: no step%s%s%s\n", t->series[k], r->drift ? "; drifting by " : "",
                   r->drift ? d : "", r->drift ? " per point" : "");
            continue;
        }
        for (size_t j = 0; j < r->n_points; j++) {
            const lb_changepoint *c = &r->points[j];
            const lb_history_point *p = &t->points[c->index];
            char before[48], after[48];
            lb_metric_format(o->metric, c->before, before, sizeof before);
            lb_metric_format(o->metric, c->after, after, sizeof after);
            bool up = c->after > c->before;
            bool worse = (o->metric->better == LB_BETTER_LOWER && up) ||
                         (o->metric->better == LB_BETTER_HIGHER && !up);
            printf("  %s: from run %zu (commit %s): %s -> %s (%+.1f%%, p = %.2g)%s\n", t->series[k],
                   p->run, p->commit, before, after, c->change * 100, c->p,
                   o->metric->better == LB_BETTER_NEITHER ? ""
                   : worse                                ? " WORSE"
                                                          : " better");
        }
    }
}

/* bmf.json and the two github-action-benchmark files, from the newest run. */
static int write_exports(const char *dir, const json_t *latest, char *err, size_t errlen)
{
    int rc = write_json(dir, "bmf.json", lb_history_bmf(latest), err, errlen);
    if (!rc)
        rc = write_json(dir, "benchmark-smaller.json", lb_history_action_benchmark(latest, 0), err,
                        errlen);
    if (!rc)
        rc = write_json(dir, "benchmark-bigger.json", lb_history_action_benchmark(latest, 1), err,
                        errlen);
    return rc;
}

/* Writes the exports and the chart into o->dir; the exit code. */
static int write_outputs(const lb_history_trend *t, const history_opts *o)
{
    char err[1024], ylabel[128];
    int rc = lb_mkdir_p(o->dir);
    if (rc) snprintf(err, sizeof err, "%s: %s", o->dir, strerror(-rc));
    if (!rc) rc = write_exports(o->dir, t->latest, err, sizeof err);
    if (!rc && o->detect)
        rc = write_json(o->dir, "changes.json", lb_history_changes_json(t), err, sizeof err);
    lb_history_chart chart = LB_HISTORY_CHART_FAILED;
    snprintf(ylabel, sizeof ylabel, "%s (%s)", o->metric->name, o->metric->unit);
    if (!rc) rc = lb_history_plot(t, o->dir, ylabel, &chart, err, sizeof err);
    if (rc) {
        fprintf(stderr, "leakbench history: %s\n", err);
        return LB_EXIT_ERROR;
    }
    bool drawn = chart == LB_HISTORY_CHART_DRAWN;
    printf("wrote %s/{trend.dat%s,bmf.json,benchmark-smaller.json,benchmark-bigger.json%s}%s\n",
           o->dir, chart == LB_HISTORY_CHART_NOTHING ? "" : ",trend.gp",
           o->detect ? ",changes.json" : "", drawn ? " and trend.png, trend.svg" : "");
    if (drawn) return LB_EXIT_OK;
    fprintf(stderr, "leakbench history: %s\n", err);
    return chart == LB_HISTORY_CHART_NOTHING ? LB_EXIT_OK : LB_EXIT_NO_GNUPLOT;
}

static int history_main(int argc, char **argv)
{
    history_opts o;
    int code = parse_options(argc, argv, &o);
    if (code >= 0) return code;
    char err[1024];
    lb_history_trend trend;
    int rc =
        lb_history_trend_load(&trend, o.file, o.variant, o.metric->name, o.only, err, sizeof err);
    if (rc) {
        fprintf(stderr, "leakbench history: %s\n", err);
        lb_history_trend_free(&trend);
        return rc == -EINVAL || rc == -EISDIR ? LB_EXIT_USAGE : LB_EXIT_ERROR;
    }
    print_table(&trend, &o);
    if (o.detect) {
        if (lb_history_detect(&trend)) {
            fprintf(stderr, "leakbench history: out of memory\n");
            lb_history_trend_free(&trend);
            return LB_EXIT_ERROR;
        }
        print_changes(&trend, &o);
    }
    code = write_outputs(&trend, &o);
    lb_history_trend_free(&trend);
    return code;
}

static const lb_command history_command = {
    .name = "history",
    .summary = "plot a metric over the runs of a history file; export BMF / action-benchmark",
    .main = history_main,
};
LB_COMMAND(history_command)
