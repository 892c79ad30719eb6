/*
 * cmd_merge.c — `leakbench merge [options] RESULTS... [-o DIR]`: the
 * shards of one suite and commit (each written by `run --shard I/N`, read
 * through run/results_load.h) merged into one results document
 * (ci/merge.h), then treated like a run's: thresholds evaluated on it,
 * results.json and samples.csv written by the one writer
 * (run/results.h), the before/after tables, --junit, --history,
 * --baseline and --save-baseline through the run's gate (run_gate.h) and
 * the report rendered.
 *
 * Steps: load every input; merge (refusals happen here, before anything
 * is written); check -o; write; gate; render.
 *
 * Exit codes (harness/cli/cli.h): 0 merged, every threshold passes; 1 a
 * threshold failed or --baseline found a regression; 2 bad command line,
 * a missing --baseline, an unreadable or invalid results file, shards
 * that do not belong together (suite, commit, schema version, shard
 * count, a shard given twice, overlapping shards) or missing shards
 * without --allow-missing — nothing written; 3 -o,
 * --junit or --history cannot be written, or a shard's status is not
 * "complete" (the merged results, marked so, are still written); 5
 * gnuplot not found (results and report written without charts); 4
 * --baseline comparison inconclusive.
 */
#include "ci/merge.h"
#include "cli.h"
#include "run_output.h"
#include "options.h"
#include "core/rundir.h"
#include "report/report.h"
#include "report/table.h"
#include "run/results.h"
#include "run/results_load.h"
#include "run_gate.h"
#include "terminal.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: leakbench merge [options] RESULTS...\n\n"
                 "Merges the results of `leakbench run --shard I/N` (results files or run\n"
                 "directories) of one suite and commit into one results document and\n"
                 "report, as one `run` of the whole suite would have written, and evaluates\n"
                 "the thresholds on it.\n\n"
                 "options:\n"
                 "  -o, --output DIR   where to write (default reports/latest)\n"
                 "      --allow-missing  merge even when shards are missing (listed on stderr)\n"
                 "      --junit FILE   JUnit XML: a test case per threshold\n"
                 "      --history FILE append the merged medians as one JSON line\n"
                 "      --baseline NAME  compare the merge with baseline NAME (as `run`)\n"
                 "      --save-baseline NAME  store the merged results as baseline NAME\n"
                 "      --no-report    do not render report.md, report.html and charts\n"
                 "  -q, --quiet        no tables\n"
                 "  -h, --help         this help\n\n"
                 "exit codes: 0 merged, thresholds pass; 1 a threshold failed or --baseline\n"
                 "found a regression; 2 bad usage, bad input, shards that do not belong\n"
                 "together or missing shards (nothing written); 3 an output cannot be written\n"
                 "or a shard was interrupted; 4 --baseline inconclusive; 5 gnuplot not found\n"
                 "(written without charts).\n");
}

typedef struct merge_args {
    const char *out_dir;
    bool allow_missing, no_report, quiet;
    lb_gate_options gate; /* --junit, --history, --baseline, --save-baseline */
    int n_inputs;
    char **inputs;
} merge_args;

enum {
    OPT_ALLOW_MISSING = 256,
    OPT_JUNIT,
    OPT_HISTORY,
    OPT_BASELINE,
    OPT_SAVE_BASELINE,
    OPT_NO_REPORT
};

/* LB_EXIT_OK to merge, -1 after --help, LB_EXIT_USAGE on a bad command line. */
static int parse_args(int argc, char **argv, merge_args *a)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"allow-missing", no_argument, NULL, OPT_ALLOW_MISSING},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"history", required_argument, NULL, OPT_HISTORY},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"save-baseline", required_argument, NULL, OPT_SAVE_BASELINE},
        {"no-report", no_argument, NULL, OPT_NO_REPORT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (merge_args){.out_dir = "reports/latest", .gate = {.command = "merge"}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            a->out_dir = optarg;
            break;
        case 'q':
            a->quiet = true;
            break;
        case OPT_ALLOW_MISSING:
            a->allow_missing = true;
            break;
        case OPT_JUNIT:
            a->gate.junit = optarg;
            break;
        case OPT_HISTORY:
            a->gate.history = optarg;
            break;
        case OPT_BASELINE:
            a->gate.baseline = optarg;
            break;
        case OPT_SAVE_BASELINE:
            a->gate.save_baseline = optarg;
            break;
        case OPT_NO_REPORT:
            a->no_report = true;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default: /* '?' or ':' */
            return lb_cli_bad_option(stderr, "merge", c, argv, longopts);
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "leakbench merge: no RESULTS given\n");
        usage(stderr);
        return LB_EXIT_USAGE;
    }
    a->n_inputs = argc - optind;
    a->inputs = argv + optind;
    return LB_EXIT_OK;
}

/* Every input through the one loader.  LB_EXIT_OK, LB_EXIT_USAGE or
 * LB_EXIT_ERROR (out of memory); message on stderr. */
static int load_inputs(const merge_args *a, json_t **docs)
{
    char err[1024];
    for (int i = 0; i < a->n_inputs; i++) {
        int rc = lb_results_load(a->inputs[i], &docs[i], err, sizeof err);
        if (rc) {
            fprintf(stderr, "leakbench merge: %s\n", err);
            return rc == -ENOMEM ? LB_EXIT_ERROR : LB_EXIT_USAGE;
        }
    }
    return LB_EXIT_OK;
}

/* "leakbench" + argv, as the merged results' "command". */
static json_t *command_json(int argc, char **argv)
{
    json_t *cmd = json_array();
    json_array_append_new(cmd, json_string("leakbench"));
    for (int i = 0; i < argc; i++) json_array_append_new(cmd, json_string(argv[i]));
    return cmd;
}

/* results.json, samples.csv and the tables, into the staging directory
 * of the run directory (core/rundir.h).  LB_EXIT_OK or LB_EXIT_ERROR. */
static int write_results(const merge_args *a, const json_t *doc, const lb_merge_result *res,
                         lb_rundir *rd)
{
    char err[4600];
    if (lb_rundir_check(a->out_dir, err, sizeof err) ||
        lb_rundir_stage(rd, a->out_dir, err, sizeof err) ||
        lb_results_write(rd->stage, doc, err, sizeof err)) {
        fprintf(stderr, "leakbench merge: %s\n", err);
        return LB_EXIT_ERROR;
    }
    if (!a->quiet) {
        const json_t *scenarios = json_object_get(doc, "scenarios");
        for (size_t i = 0; i < json_array_size(scenarios); i++)
            lb_table_print(stdout, json_array_get(scenarios, i),
                           lb_color_enabled(a->gate.color, STDOUT_FILENO),
                           lb_tty_columns(STDOUT_FILENO));
        const json_t *commit = json_object_get(doc, "commit");
        printf("\nmerged %d of %d shards of %s (commit %s): %zu scenarios\n", res->n_given,
               res->count, json_string_value(json_object_get(doc, "suite")),
               json_is_string(commit) ? json_string_value(commit) : "unknown",
               json_array_size(scenarios));
    }
    return LB_EXIT_OK;
}

/* report.md, report.html and charts/ into the staging directory, as `run`
 * renders them. */
static int render(const json_t *doc, const lb_rundir *rd, lb_report_result *report)
{
    lb_report_opts opts = {.charts = true};
    int code = lb_exit_for_report(lb_report_render(doc, rd->stage, &opts, report), report);
    if (code != LB_EXIT_OK) fprintf(stderr, "leakbench merge: %s\n", report->message);
    return code == LB_EXIT_USAGE ? LB_EXIT_ERROR : code;
}

/* Merges the loaded shards and does with the result what `run` does. */
static int merge_and_write(const merge_args *a, int argc, char **argv, json_t **docs)
{
    char err[2048];
    json_t *doc;
    lb_merge_result res;
    int rc = lb_merge_shards((const char *const *)a->inputs, (const json_t *const *)docs,
                             (size_t)a->n_inputs, a->allow_missing, command_json(argc, argv), &doc,
                             &res, err, sizeof err);
    if (rc) {
        fprintf(stderr, "leakbench merge: %s\n", err);
        return rc == -ENOMEM ? LB_EXIT_ERROR : LB_EXIT_USAGE;
    }
    if (res.missing[0])
        fprintf(stderr, "leakbench merge: warning: missing shards (--allow-missing): %s\n",
                res.missing);
    lb_rundir rd = {0};
    int code = write_results(a, doc, &res, &rd);
    bool results_written = code == LB_EXIT_OK;
    if (results_written) {
        bool complete = !res.partial && !res.missing[0];
        code = lb_gate_finish(&a->gate, doc, complete, a->quiet, stdout);
        fflush(stdout);
        lb_report_result report;
        int report_code = a->no_report ? LB_EXIT_OK : render(doc, &rd, &report);
        report_code =
            lb_run_output_commit(&rd, a->out_dir, "merge", true, a->no_report ? NULL : &report,
                                 a->quiet, stdout, report_code);
        code = lb_gate_combine(code, report_code);
        if (res.partial) {
            fprintf(stderr,
                    "leakbench merge: a shard's run did not complete: the merged results are "
                    "partial (status \"%s\")\n",
                    json_string_value(json_object_get(doc, "status")));
            code = lb_gate_combine(code, LB_EXIT_ERROR);
        }
    }
    lb_rundir_discard(&rd);
    json_decref(doc);
    return code;
}

static int merge_main(int argc, char **argv)
{
    merge_args a;
    int code = parse_args(argc, argv, &a);
    if (code != LB_EXIT_OK) return code < 0 ? LB_EXIT_OK : code;
    if ((code = lb_gate_check_options(&a.gate)) != LB_EXIT_OK) return code;
    json_t **docs = calloc((size_t)a.n_inputs, sizeof *docs);
    if (!docs) return LB_EXIT_ERROR;
    code = load_inputs(&a, docs);
    if (code == LB_EXIT_OK) code = merge_and_write(&a, argc, argv, docs);
    for (int i = 0; i < a.n_inputs; i++) json_decref(docs[i]);
    free(docs);
    return code;
}

static const lb_command cmd_merge = {
    "merge", "merge the results of `run --shard I/N` into one results and report", merge_main};
LB_COMMAND(cmd_merge)
