/*
 * cmd_report.c — `leakbench report RESULTS.json [-o DIR] [--no-charts]`:
 * re-renders report.md, report.html and the charts of a run from its
 * results file (loaded through run/results_load.h into the same document
 * `run` renders from), by default into the directory that holds it.
 * `--summary FILE` writes the CI job-summary form instead (Markdown, no
 * images; "-" is stdout, for `>> "$GITHUB_STEP_SUMMARY"`).
 *
 * Exit codes (harness/cli/cli.h): 0 written; 2 bad command line or a missing,
 * unreadable or invalid results file (the message names the file and the
 * position or JSON path; nothing is written); 3 the report could not be
 * written or gnuplot failed; 5 gnuplot is not on PATH (report.md and
 * report.html written, charts skipped).
 */
#include "cli.h"
#include "options.h"
#include "report/report.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void report_usage(FILE *out)
{
    fprintf(out, "usage: leakbench report RESULTS.json|RUN_DIR [-o DIR] [--no-charts]\n"
                 "       leakbench report RESULTS.json|RUN_DIR --summary FILE|-\n\n"
                 "Renders report.md, report.html and charts/ (PNG and SVG, drawn by gnuplot)\n"
                 "from a results file written by `leakbench run`.\n\n"
                 "  -o, --output DIR   where to write (default: the directory of RESULTS.json)\n"
                 "      --no-charts    do not run gnuplot (data and charts.gp are still written)\n"
                 "      --summary FILE write only the CI job summary (Markdown without images:\n"
                 "                     status line, verdicts, sparklines) to FILE, - for stdout\n"
                 "  -h, --help         this text\n\n"
                 "Exit codes: 0 ok, 2 bad arguments or invalid results file (nothing written),\n"
                 "3 write error or gnuplot failed, 5 gnuplot not found (report without charts).\n");
}

static int report_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"no-charts", no_argument, NULL, 'C'},
                                             {"summary", required_argument, NULL, 'S'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *out_dir = NULL, *summary = NULL;
    lb_report_opts opts = {.charts = true};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out_dir = optarg;
            break;
        case 'C':
            opts.charts = false;
            break;
        case 'S':
            summary = optarg;
            break;
        case 'h':
            report_usage(stdout);
            return LB_EXIT_OK;
        default:
            return lb_cli_bad_option(stderr, "report", c, argv, longopts);
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "leakbench report: expected one results file, got %d\n", argc - optind);
        report_usage(stderr);
        return LB_EXIT_USAGE;
    }
    const char *results = argv[optind];
    lb_report_result res;
    if (summary && out_dir) {
        fprintf(stderr, "leakbench report: --summary writes one file; it takes no -o DIR\n");
        return LB_EXIT_USAGE;
    }
    if (summary) {
        int code = lb_exit_for_report(lb_report_summary_file(results, summary, &res), &res);
        if (code != LB_EXIT_OK)
            fprintf(stderr, "leakbench report: %s\n", res.message);
        else if (strcmp(summary, "-"))
            printf("leakbench report: wrote the summary %s\n", summary);
        return code;
    }
    /* The loader reads a run directory's results.json; by default the
     * report goes beside the results. */
    char dir_buf[4300];
    struct stat st;
    if (!out_dir && stat(results, &st) == 0 && S_ISDIR(st.st_mode)) {
        out_dir = results;
    } else if (!out_dir) {
        snprintf(dir_buf, sizeof dir_buf, "%s", results);
        out_dir = dirname(dir_buf);
    }
    int rc = lb_report_render_file(results, out_dir, &opts, &res);
    int code = lb_exit_for_report(rc, &res);
    if (code == LB_EXIT_OK) {
        printf("leakbench report: wrote %s/report.md, %s/report.html", out_dir, out_dir);
        if (res.charts == LB_CHARTS_RENDERED)
            printf(" and %d charts in %s/charts/\n", res.n_charts, out_dir);
        else
            printf(" (charts not drawn: --no-charts)\n");
    } else if (code == LB_EXIT_NO_GNUPLOT) {
        fprintf(stderr, "leakbench report: %s\n", res.message);
        printf("leakbench report: wrote %s/report.md and %s/report.html without charts\n", out_dir,
               out_dir);
    } else {
        fprintf(stderr, "leakbench report: %s\n", res.message);
    }
    return code;
}

static const lb_command report_command = {
    .name = "report",
    .summary = "render report.md, report.html and charts from a results.json",
    .main = report_main,
};
LB_COMMAND(report_command)
