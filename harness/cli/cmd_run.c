/*
 * cmd_run.c — `leakbench run [options] SPEC...`: validates every spec,
 * runs each scenario's leaky and graceful twin (interleaved L G L G ...
 * over the repetitions) in child processes, writes results.json and
 * samples.csv into the run directory and prints the before/after table.
 *
 * Exit codes (harness/cli/cli.h): 0 runs carried out; 2 bad command line or
 * invalid or unreadable spec (nothing ran); 3 the output directory cannot
 * be created or written (checked before anything runs), a run could not be
 * carried out (fork failed, a child crashed, the scheduler is unavailable)
 * or a completed run's request accounting did not balance — results are
 * still written; 130 interrupted by SIGINT/SIGTERM/SIGHUP/SIGPIPE — children killed,
 * results so far written with status "interrupted"; 5 gnuplot is missing
 * (results, report.md and report.html written, charts skipped).  A guard
 * that fires is a result, not an error.
 */
#include "cli.h"
#include "run/host.h"
#include "core/outfile.h"
#include "progress.h"
#include "report/report.h"
#include "run/results.h"
#include "run_gate.h"
#include "run/runner.h"
#include "core/spec.h"
#include "report/table.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct run_options {
    const char *out_dir;
    lb_spec_overrides overrides;
    bool quiet;
    bool no_report;       /* skip report rendering (report.md/html, charts) after the run */
    lb_gate_options gate; /* --junit, --history, --save-baseline, --baseline */
} run_options;

static void usage(FILE *out)
{
    fprintf(out, "usage: leakbench run [options] SPEC...\n\n"
                 "Runs every scenario of the given scenario or suite files: the leaky and the\n"
                 "graceful twin under the same load, each in its own child process, sampled\n"
                 "from outside.  Writes DIR/results.json and DIR/samples.csv and prints the\n"
                 "before/after table.\n\n"
                 "options:\n"
                 "  -o, --output DIR       run directory (default reports/latest)\n"
                 "      --reps N           repetitions per variant, interleaved L G L G ...\n"
                 "                         (overrides the specs' \"repetitions\"; 1..1000)\n"
                 "      --sample-ms MS     sampling interval in ms (1..60000, default 10)\n"
                 "      --rate R           arrivals per second for open loads without stages\n"
                 "      --duration D       load duration: 5000 or 5000ms, 5s, 2m\n"
                 "      --scheduler NAME   threads or coroutines\n"
                 "  -q, --quiet            no progress output and no table\n"
                 "      --no-report        do not render report.md, report.html and charts\n"
                 "      --junit FILE       JUnit XML: a test case per threshold (and per\n"
                 "                         compared metric with --baseline)\n"
                 "      --history FILE     append this run's medians as one JSON line\n"
                 "      --save-baseline NAME  store the results as baseline NAME\n"
                 "      --baseline NAME    compare with baseline NAME (like `leakbench compare`)\n"
                 "                         baselines live in $LEAKBENCH_BASELINE_DIR or\n"
                 "                         reports/baselines, as NAME.json\n"
                 "  -h, --help             this help\n\n"
                 "exit codes: 0 done (a fired guard is a result), 1 a threshold failed or\n"
                 "--baseline found a regression, 2 bad usage or invalid or unreadable spec\n"
                 "(nothing ran), 3 the output directory cannot be written (nothing ran), or a\n"
                 "run could not be carried out or its request accounting did not balance\n"
                 "(results still written), 4 --baseline comparison inconclusive, 5 gnuplot not\n"
                 "found (report written without charts), 130 interrupted (partial results\n"
                 "written, status \"interrupted\").\n");
}

/* "5000", "5000ms", "5s", "2m" -> ms; false if malformed. */
static bool parse_duration_ms(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !isfinite(v) || v <= 0) return false;
    if (!*end || !strcmp(end, "ms"))
        *out = v;
    else if (!strcmp(end, "s"))
        *out = v * 1000;
    else if (!strcmp(end, "m"))
        *out = v * 60000;
    else
        return false;
    return *out <= 86400000.0;
}

static bool parse_number(const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max) return false;
    *out = v;
    return true;
}

/* Makes sure the results can be written into dir before anything runs:
 * creates it if missing and creates (and removes) a file in it, so a path
 * that is a file or a directory that cannot be written is an error now,
 * not after minutes of runs.  0 or -errno, with a message naming dir. */
static int check_output_dir(const char *dir, char *err, size_t errlen)
{
    int rc = lb_mkdir_p(dir);
    if (rc) {
        snprintf(err, errlen, "-o %s: cannot create the output directory: %s", dir, strerror(-rc));
        return rc;
    }
    char probe[4200];
    if (snprintf(probe, sizeof probe, "%s/.leakbench-probe.XXXXXX", dir) >= (int)sizeof probe) {
        snprintf(err, errlen, "-o %s: path too long", dir);
        return -ENAMETOOLONG;
    }
    int fd = mkstemp(probe);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "-o %s: cannot write in the output directory: %s", dir,
                 strerror(-rc));
        return rc;
    }
    close(fd);
    unlink(probe);
    return 0;
}

static int parse_options(int argc, char **argv, run_options *o)
{
    enum {
        OPT_REPS = 256,
        OPT_SAMPLE,
        OPT_RATE,
        OPT_DURATION,
        OPT_SCHED,
        OPT_NO_REPORT,
        OPT_JUNIT,
        OPT_HISTORY,
        OPT_SAVE_BASELINE,
        OPT_BASELINE
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"reps", required_argument, NULL, OPT_REPS},
        {"sample-ms", required_argument, NULL, OPT_SAMPLE},
        {"rate", required_argument, NULL, OPT_RATE},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"scheduler", required_argument, NULL, OPT_SCHED},
        {"quiet", no_argument, NULL, 'q'},
        {"no-report", no_argument, NULL, OPT_NO_REPORT},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"history", required_argument, NULL, OPT_HISTORY},
        {"save-baseline", required_argument, NULL, OPT_SAVE_BASELINE},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->out_dir = "reports/latest";
    o->overrides = LB_SPEC_NO_OVERRIDES;
    o->quiet = false;
    o->no_report = false;
    o->gate = (lb_gate_options){0};
    optind = 1;
    opterr = 0;
    int c;
    double v;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->out_dir = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 1;
        case OPT_NO_REPORT:
            o->no_report = true;
            break;
        case OPT_JUNIT:
            o->gate.junit = optarg;
            break;
        case OPT_HISTORY:
            o->gate.history = optarg;
            break;
        case OPT_SAVE_BASELINE:
            o->gate.save_baseline = optarg;
            break;
        case OPT_BASELINE:
            o->gate.baseline = optarg;
            break;
        case OPT_REPS:
            if (!parse_number(optarg, 1, 1000, &v) || v != floor(v)) {
                fprintf(stderr, "leakbench run: --reps: '%s' is not an integer in 1..1000\n",
                        optarg);
                return -1;
            }
            o->overrides.repetitions = (int)v;
            break;
        case OPT_SAMPLE:
            if (!parse_number(optarg, 1, 60000, &v)) {
                fprintf(stderr, "leakbench run: --sample-ms: '%s' is not a number in 1..60000\n",
                        optarg);
                return -1;
            }
            o->overrides.sample_ms = v;
            break;
        case OPT_RATE:
            if (!parse_number(optarg, 1e-9, 1e6, &v)) {
                fprintf(stderr, "leakbench run: --rate: '%s' is not a rate in (0, 1e6]\n", optarg);
                return -1;
            }
            o->overrides.rate = v;
            break;
        case OPT_DURATION:
            if (!parse_duration_ms(optarg, &v)) {
                fprintf(stderr,
                        "leakbench run: --duration: '%s' is not a duration (5000, 5000ms, 5s, "
                        "2m; at most a day)\n",
                        optarg);
                return -1;
            }
            o->overrides.duration_ms = v;
            break;
        case OPT_SCHED: {
            rt_sched_kind k;
            if (rt_sched_parse(optarg, &k) != 0) {
                fprintf(stderr,
                        "leakbench run: --scheduler: unknown scheduler '%s' (threads or "
                        "coroutines)\n",
                        optarg);
                return -1;
            }
            o->overrides.scheduler = (int)k;
            break;
        }
        case ':':
            fprintf(stderr, "leakbench run: option '%s' needs a value\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "leakbench run: unknown option '%s'\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "leakbench run: no SPEC given\n");
        usage(stderr);
        return -1;
    }
    return 0;
}

static int run_main(int argc, char **argv)
{
    run_options opt;
    int rc = parse_options(argc, argv, &opt);
    if (rc) return rc > 0 ? LB_EXIT_OK : LB_EXIT_USAGE;

    int n_specs = argc - optind;
    char **paths = argv + optind;
    lb_spec *specs = calloc((size_t)n_specs, sizeof *specs);
    if (!specs) return LB_EXIT_ERROR;
    lb_spec_error err;
    int n_loaded = 0, exit_code = LB_EXIT_OK;
    for (int i = 0; i < n_specs && exit_code == LB_EXIT_OK; i++) {
        if (lb_spec_load(paths[i], &specs[i], &err) != 0) {
            fprintf(stderr, "leakbench run: %s\n", err.text);
            exit_code = LB_EXIT_USAGE;
            break;
        }
        n_loaded++;
        if (lb_spec_apply_overrides(&specs[i], &opt.overrides, &err) != 0) {
            fprintf(stderr, "leakbench run: %s\n", err.text);
            exit_code = LB_EXIT_USAGE;
        }
    }
    if (exit_code == LB_EXIT_OK) exit_code = lb_gate_check_options(&opt.gate);
    if (exit_code == LB_EXIT_OK) {
        char derr[4400];
        if (check_output_dir(opt.out_dir, derr, sizeof derr) != 0) {
            fprintf(stderr, "leakbench run: %s\n", derr);
            exit_code = LB_EXIT_ERROR;
        }
    }
    if (exit_code != LB_EXIT_OK) {
        for (int i = 0; i < n_loaded; i++) lb_spec_free(&specs[i]);
        free(specs);
        return exit_code;
    }

    lb_results results;
    memset(&results, 0, sizeof results);
    results.started_at = time(NULL);
    char *command[argc + 1];
    command[0] = "leakbench";
    for (int i = 0; i < argc; i++) command[i + 1] = argv[i];
    results.argc = argc + 1;
    results.argv = command;
    results.n_paths = n_specs;
    results.spec_paths = (const char *const *)paths;
    lb_host_read(&results.host);

    int total_items = 0, total_runs = 0;
    for (int i = 0; i < n_specs; i++)
        for (int k = 0; k < specs[i].n; k++) {
            total_items++;
            total_runs += 2 * specs[i].items[k].repetitions;
        }
    results.scenarios = calloc((size_t)total_items, sizeof *results.scenarios);
    if (!results.scenarios) return LB_EXIT_ERROR;

    lb_progress progress;
    lb_progress_init(&progress, stderr, opt.quiet, total_runs);
    lb_run_options ropt = {0, lb_progress_sample, &progress};
    lb_runner_install_signals();
    int64_t mem_available = lb_mem_available();
    bool run_failed = false;

    for (int i = 0; i < n_specs && !lb_interrupted; i++) {
        for (int k = 0; k < specs[i].n && !lb_interrupted; k++) {
            const lb_scenario_spec *s = &specs[i].items[k];
            lb_scenario_result *sr = &results.scenarios[results.n_scenarios++];
            sr->spec = s;
            lb_guards limits;
            lb_guards_resolve(s, mem_available > 0 ? mem_available : 0, &limits);
            for (int rep = 0; rep < s->repetitions && !lb_interrupted; rep++) {
                for (int v = 0; v < 2 && !lb_interrupted; v++) {
                    bool leaky = v == 0;
                    lb_progress_run_start(&progress, s, leaky, rep);
                    lb_run_result run;
                    rc = lb_run_one(s, leaky, rep, &limits, &ropt, &run);
                    if (rc) {
                        fprintf(stderr, "leakbench run: %s %s rep %d: cannot run: %s\n", s->name,
                                leaky ? "leaky" : "graceful", rep, strerror(-rc));
                        run_failed = true;
                        continue;
                    }
                    lb_progress_run_done(&progress, &run);
                    if (run.status == LB_RUN_CRASHED) {
                        fprintf(stderr, "leakbench run: %s %s rep %d: %s\n", s->name,
                                leaky ? "leaky" : "graceful", rep, run.error);
                        run_failed = true;
                    }
                    if (run.status == LB_RUN_COMPLETED && !run.accounting.balanced) {
                        /* Every request must end exactly once; a run that
                         * lost some is not a measurement to trust. */
                        const lb_accounting *a = &run.accounting;
                        fprintf(stderr,
                                "leakbench run: ACCOUNTING VIOLATION in %s %s rep %d: "
                                "submitted %lld != completed %lld + timed_out %lld + failed "
                                "%lld + rejected %lld + cancelled %lld (%lld unanswered)\n",
                                s->name, leaky ? "leaky" : "graceful", rep, (long long)a->submitted,
                                (long long)a->outcome[LB_COMPLETED],
                                (long long)a->outcome[LB_TIMED_OUT],
                                (long long)a->outcome[LB_FAILED],
                                (long long)a->outcome[LB_REJECTED],
                                (long long)a->outcome[LB_CANCELLED], (long long)a->unanswered);
                        run_failed = true;
                    }
                    if (lb_scenario_result_add(sr, &run) != 0) {
                        lb_run_result_free(&run);
                        run_failed = true;
                    }
                }
            }
        }
    }
    results.interrupted = lb_interrupted != 0;
    results.finished_at = time(NULL);

    /* Thresholds (run_gate.c): verdicts into results.thresholds. */
    int gate_code = lb_gate_thresholds(&results);

    char werr[512];
    rc = lb_results_write(opt.out_dir, &results, werr, sizeof werr);
    if (rc) {
        fprintf(stderr, "leakbench run: %s\n", werr);
        exit_code = LB_EXIT_ERROR;
    }
    if (!opt.quiet) {
        /* The terminal view reads the results document, as the report does. */
        json_t *doc = lb_results_to_json(&results);
        json_t *scenarios = json_object_get(doc, "scenarios");
        for (size_t i = 0; i < json_array_size(scenarios); i++)
            lb_table_print(stdout, json_array_get(scenarios, i));
        json_decref(doc);
    }
    if (!rc && !opt.quiet)
        printf("\nresults: %s/results.json, %s/samples.csv\n", opt.out_dir, opt.out_dir);
    /* Thresholds printed, --baseline, --junit, --history, --save-baseline. */
    gate_code = lb_gate_combine(gate_code, lb_gate_finish(&opt.gate, &results,
                                                          !lb_interrupted && !run_failed && !rc,
                                                          opt.quiet, stdout));
    fflush(stdout);

    /* report.md, report.html and charts/ from the results just written
     * (harness/report/report.h), unless --no-report.  A missing gnuplot or a
     * failed chart is reported but does not hide a worse exit status. */
    if (!rc && !opt.no_report) {
        char results_path[4200];
        snprintf(results_path, sizeof results_path, "%s/results.json", opt.out_dir);
        lb_report_opts report_opts = {.charts = true};
        lb_report_result report;
        int report_rc = lb_report_render(results_path, opt.out_dir, &report_opts, &report);
        int report_exit = lb_exit_for_report(report_rc, &report);
        if (report_exit != LB_EXIT_OK) fprintf(stderr, "leakbench run: %s\n", report.message);
        if (report_exit != LB_EXIT_USAGE && !opt.quiet)
            printf("report:  %s/report.md, %s/report.html%s\n", opt.out_dir, opt.out_dir,
                   report.charts == LB_CHARTS_RENDERED ? ", charts in charts/" : " (no charts)");
        if (exit_code == LB_EXIT_OK && report_exit != LB_EXIT_OK)
            exit_code = report_exit == LB_EXIT_USAGE ? LB_EXIT_ERROR : report_exit;
    }

    if (lb_interrupted) {
        /* Also a signal that arrived after the runs, while the table, the
         * gate or the charts were written (gnuplot dies of the same
         * Ctrl-C): 130, never a gnuplot failure with an empty reason. */
        fprintf(stderr, "leakbench run: interrupted by %s; %s\n", strsignal(lb_interrupted),
                results.interrupted ? "partial results written"
                                    : "results written, the report may be incomplete");
        exit_code = LB_EXIT_INTERRUPTED;
    } else if (run_failed && exit_code == LB_EXIT_OK) {
        exit_code = LB_EXIT_ERROR;
    }
    exit_code = lb_gate_combine(exit_code, gate_code);
    json_decref(results.thresholds);
    lb_results_free(&results);
    for (int i = 0; i < n_specs; i++) lb_spec_free(&specs[i]);
    free(specs);
    return exit_code;
}

static const lb_command cmd_run = {"run", "run scenario pairs and measure them (writes results)",
                                   run_main};
LB_COMMAND(cmd_run)
