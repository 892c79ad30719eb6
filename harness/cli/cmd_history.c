/*
 * cmd_history.c — `leakbench history FILE`: prints a metric's trend over
 * the runs recorded by `run --history FILE`, plots it with gnuplot and
 * exports the latest entry for Bencher and github-action-benchmark.
 *
 * Files written into -o DIR (default reports/history), each atomically:
 *   trend.dat, trend.gp          data and gnuplot script
 *   trend.png, trend.svg         the chart (when gnuplot is installed)
 *   bmf.json                     Bencher Metric Format, latest entry
 *   benchmark-smaller.json       github-action-benchmark customSmallerIsBetter
 *   benchmark-bigger.json        github-action-benchmark customBiggerIsBetter
 * gnuplot runs without a shell (fork + execvp, script path as argv[1]);
 * every string that reaches the script is a single-quoted gnuplot string
 * with quotes doubled, so names cannot inject commands.  Exit: 0, 2 bad
 * usage or history file, 3 I/O error, 5 gnuplot missing or failed (data
 * and exports still written).
 */
#include "cli.h"
#include "ci/history.h"
#include "core/metric.h"
#include "core/outfile.h"
#include "core/threshold.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SERIES 32

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
            "  -h, --help               this text\n\n"
            "exit: 0 ok, 2 bad usage or history file, 3 cannot write, 5 gnuplot missing\n"
            "or failed (data and exports written, chart skipped)\n");
}

/* A short, safe label for a commit: hex digits only, at most 10. */
static void short_commit(const char *commit, char *buf, size_t len)
{
    size_t n = 0;
    for (; commit && commit[n] && n < 10 && n + 1 < len; n++) {
        if (!isxdigit((unsigned char)commit[n])) break;
        buf[n] = commit[n];
    }
    if (n == 0)
        snprintf(buf, len, "unknown");
    else
        buf[n] = 0;
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

/* Runs gnuplot on script; 0, or LB_EXIT_NO_GNUPLOT with a message. */
static int run_gnuplot(const char *script)
{
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "leakbench history: fork: %s\n", strerror(errno));
        return LB_EXIT_NO_GNUPLOT;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        char *const argv[] = {"gnuplot", (char *)script, NULL};
        execvp("gnuplot", argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return LB_EXIT_NO_GNUPLOT;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr, "leakbench history: gnuplot not found on PATH (apt-get install "
                        "gnuplot-nox); chart skipped, data and exports written\n");
        return LB_EXIT_NO_GNUPLOT;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "leakbench history: gnuplot failed on %s; chart skipped\n", script);
        return LB_EXIT_NO_GNUPLOT;
    }
    return 0;
}

static int history_main(int argc, char **argv)
{
    const char *metric_ref = "graceful.peak_tasks", *only = NULL, *dir = "reports/history";
    static const struct option longopts[] = {
        {"metric", required_argument, NULL, 'm'},
        {"scenario", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            metric_ref = optarg;
            break;
        case 's':
            only = optarg;
            break;
        case 'o':
            dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return LB_EXIT_OK;
        default:
            usage(stderr);
            return LB_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "leakbench history: expected one history FILE\n");
        usage(stderr);
        return LB_EXIT_USAGE;
    }
    const char *file = argv[optind];
    const char *variant;
    const lb_metric_def *metric;
    lb_threshold_error perr;
    if (lb_metric_ref_parse(metric_ref, &variant, &metric, &perr)) {
        fprintf(stderr, "leakbench history: --metric %s: character %zu: %s\n", metric_ref, perr.pos,
                perr.msg);
        return LB_EXIT_USAGE;
    }
    char err[1024];
    json_t *entries;
    int rc = lb_history_load(file, &entries, err, sizeof err);
    if (rc) {
        fprintf(stderr, "leakbench history: %s\n", err);
        return rc == -EINVAL ? LB_EXIT_USAGE : LB_EXIT_ERROR;
    }
    size_t n = json_array_size(entries);
    if (n == 0) {
        fprintf(stderr, "leakbench history: %s: no runs recorded yet\n", file);
        json_decref(entries);
        return LB_EXIT_USAGE;
    }

    /* The series: every scenario seen in any entry (or just --scenario). */
    const char *series[MAX_SERIES];
    size_t n_series = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        json_t *v;
        json_object_foreach(json_object_get(json_array_get(entries, i), "metrics"), name, v)
        {
            if (only && strcmp(only, name)) continue;
            size_t k = 0;
            while (k < n_series && strcmp(series[k], name)) k++;
            if (k == n_series && n_series < MAX_SERIES) series[n_series++] = name;
        }
    }
    if (n_series == 0) {
        fprintf(stderr, "leakbench history: %s: no scenario %s in any entry\n", file,
                only ? only : "at all");
        json_decref(entries);
        return LB_EXIT_USAGE;
    }

    rc = lb_mkdir_p(dir);
    if (rc) {
        fprintf(stderr, "leakbench history: %s: %s\n", dir, strerror(-rc));
        json_decref(entries);
        return LB_EXIT_ERROR;
    }

    /* Terminal table and data file in one pass. */
    char *dat = NULL;
    size_t dat_len = 0;
    FILE *df = open_memstream(&dat, &dat_len);
    if (!df) {
        json_decref(entries);
        return LB_EXIT_ERROR;
    }
    printf("%s.%s (%s) over %zu runs in %s\n", variant, metric->name, metric->unit, n, file);
    printf("%-4s %-10s %-22s", "#", "commit", "date");
    fprintf(df, "# index commit");
    for (size_t k = 0; k < n_series; k++) {
        printf(" %16.16s", series[k]);
        fprintf(df, " series%zu", k + 1);
    }
    printf("\n");
    fprintf(df, "\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(entries, i);
        char commit[16];
        short_commit(json_string_value(json_object_get(e, "commit")), commit, sizeof commit);
        const char *date = json_string_value(json_object_get(e, "date"));
        printf("%-4zu %-10s %-22s", i + 1, commit, date ? date : "-");
        fprintf(df, "%zu %s", i + 1, commit);
        for (size_t k = 0; k < n_series; k++) {
            const json_t *v = json_object_get(
                json_object_get(json_object_get(json_object_get(e, "metrics"), series[k]), variant),
                metric->name);
            char cell[48];
            if (json_is_number(v)) {
                lb_metric_format(metric, json_number_value(v), cell, sizeof cell);
                fprintf(df, " %.17g", json_number_value(v));
            } else {
                snprintf(cell, sizeof cell, v ? "null" : "-");
                fprintf(df, " ?");
            }
            printf(" %16s", cell);
        }
        printf("\n");
        fprintf(df, "\n");
    }
    fclose(df);

    char path[PATH_MAX], script_path[PATH_MAX];
    snprintf(path, sizeof path, "%s/trend.dat", dir);
    rc = lb_write_atomic(path, dat, dat_len, err, sizeof err);
    free(dat);

    /* The gnuplot script: both terminals from one process. */
    char *gp = NULL;
    size_t gp_len = 0;
    FILE *gf = rc ? NULL : open_memstream(&gp, &gp_len);
    if (gf) {
        char title[256], ylabel[128];
        snprintf(title, sizeof title, "%s.%s over commits", variant, metric->name);
        snprintf(ylabel, sizeof ylabel, "%s (%s)", metric->name, metric->unit);
        fprintf(gf, "# leakbench history chart, generated from %s\n", "trend.dat");
        fprintf(gf, "set datafile missing '?'\nset key outside right top noenhanced\n");
        fprintf(gf, "set title ");
        lb_gnuplot_quote(gf, title);
        fprintf(gf, " noenhanced\nset xlabel 'commit (oldest to newest)'\nset ylabel ");
        lb_gnuplot_quote(gf, ylabel);
        fprintf(gf, " noenhanced\nset xtics rotate by -45 noenhanced\nset grid\n"
                    "set offsets 0.2, 0.2, 0, 0\n");
        /* Counts, sizes and times start at zero; a slope may be negative. */
        fprintf(gf, "set yrange [%s:*]\n", strstr(metric->name, "slope") ? "*" : "0");
        const char *terms[2][2] = {{"pngcairo size 1000,560 noenhanced", "trend.png"},
                                   {"svg size 1000,560 dynamic noenhanced", "trend.svg"}};
        for (int t = 0; t < 2; t++) {
            char out[PATH_MAX];
            snprintf(out, sizeof out, "%s/%s", dir, terms[t][1]);
            fprintf(gf, "set terminal %s\nset output ", terms[t][0]);
            lb_gnuplot_quote(gf, out);
            fprintf(gf, "\nplot ");
            for (size_t k = 0; k < n_series; k++) {
                fprintf(gf, "%s", k ? ", \\\n     " : "");
                lb_gnuplot_quote(gf, path);
                fprintf(gf, " using 1:%zu:xtic(2) with linespoints lw 2 pt 7 title ", k + 3);
                lb_gnuplot_quote(gf, series[k]);
            }
            fprintf(gf, "\nset output\n");
        }
        fclose(gf);
        snprintf(script_path, sizeof script_path, "%s/trend.gp", dir);
        rc = lb_write_atomic(script_path, gp, gp_len, err, sizeof err);
        free(gp);
    }

    /* Exports of the latest entry. */
    const json_t *latest = json_array_get(entries, n - 1);
    if (!rc) rc = write_json(dir, "bmf.json", lb_history_bmf(latest), err, sizeof err);
    if (!rc)
        rc = write_json(dir, "benchmark-smaller.json", lb_history_action_benchmark(latest, 0), err,
                        sizeof err);
    if (!rc)
        rc = write_json(dir, "benchmark-bigger.json", lb_history_action_benchmark(latest, 1), err,
                        sizeof err);
    json_decref(entries);
    if (rc) {
        fprintf(stderr, "leakbench history: %s\n", err);
        return LB_EXIT_ERROR;
    }
    int code = run_gnuplot(script_path);
    printf(
        "wrote %s/{trend.dat,trend.gp,bmf.json,benchmark-smaller.json,benchmark-bigger.json}%s\n",
        dir, code ? "" : " and trend.png, trend.svg");
    return code;
}

static const lb_command history_command = {
    .name = "history",
    .summary = "plot a metric over the runs of a history file; export BMF / action-benchmark",
    .main = history_main,
};
LB_COMMAND(history_command)
