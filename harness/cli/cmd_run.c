/*
 * cmd_run.c — `leakbench run [options] SPEC...`: validates every spec,
 * runs each scenario's leaky and graceful twin (interleaved L G L G ...
 * over the repetitions) in child processes, writes results.json and
 * samples.csv into the run directory and prints the before/after table.
 *
 * With --leaky-cmd and --graceful-cmd instead of SPEC files the options
 * build one target scenario (cmdline_target.h).
 *
 * run_main is five steps: check_inputs (specs, gate options, output
 * directory: before anything runs), run_specs, write_and_gate (builds the
 * results document once; thresholds, results files, table and gate read
 * it), render_report (from the same document) and the run directory
 * committed (run_output.h).
 * --shard and --aa (run_ci.h) hook into the first three: which scenarios
 * run, which variant each side runs, and what the document carries for
 * `merge`.  Everything the run writes (results, report, target logs) goes
 * into a staging directory beside the run directory, which replaces it
 * only once everything is written (core/rundir.h): the run directory is
 * the old run or the new one, never a mix.
 *
 * Exit codes (harness/cli/cli.h): 0 runs carried out; 2 bad command line or
 * invalid or unreadable spec (nothing ran); 3 the output directory cannot
 * be created or written or is an existing directory no run wrote (checked
 * before anything runs), the new run could not be written completely (the
 * run directory is left as it was), a run could not be carried out (fork
 * failed, a child crashed, the scheduler is unavailable, an external
 * target did not start, never got ready or exited)
 * or a completed run's request accounting did not balance — results are
 * still written; 130 interrupted by SIGINT/SIGTERM/SIGHUP/SIGPIPE — children killed,
 * results so far written with status "interrupted"; 5 gnuplot is missing
 * (results, report.md and report.html written, charts skipped).  A guard
 * that fires is a result, not an error.
 */
#include "cli.h"
#include "ci/aa_noise.h"
#include "options.h"
#include "core/units.h"
#include "run/host.h"
#include "core/rundir.h"
#include "run_output.h"
#include "progress.h"
#include "terminal.h"
#include "report/report.h"
#include "run/results.h"
#include "cmdline_target.h"
#include "run_ci.h"
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
    /* --leaky-cmd ...: a target pair instead of SPEC files */
    lb_cmdline_target target;
    lb_run_ci ci;     /* --shard, --aa; the results' suite and commit */
    bool json_stdout; /* --format json or -o -: the results on stdout, the rest on stderr */
    bool no_files;    /* -o -: no run directory at all */
} run_options;

static void usage(FILE *out)
{
    fprintf(out, "usage: leakbench run [options] SPEC...\n"
                 "       leakbench run [options] --leaky-cmd CMD --graceful-cmd CMD --rate R\n"
                 "                     --duration D [--probe KIND] [--ready PATH|tcp]\n"
                 "                     [--path TEMPLATE] [--timeout D] [--settle D]\n\n"
                 "Runs every scenario of the given scenario or suite files: the leaky and the\n"
                 "graceful twin under the same load, each in its own child process, sampled\n"
                 "from outside.  Writes DIR/results.json and DIR/samples.csv and prints the\n"
                 "before/after table.\n\n"
                 "options:\n"
                 "  -o, --output DIR       run directory (default reports/latest), replaced as a\n"
                 "                         whole: new, empty, or one an earlier run wrote;\n"
                 "                         - writes no files and prints the results on stdout\n"
                 "      --format FORMAT    text (default) or json: the results document on\n"
                 "                         stdout and everything else on stderr, for piping\n"
                 "      --reps N           repetitions per variant, interleaved L G L G ...\n"
                 "                         (overrides the specs' \"repetitions\"; 1..1000)\n"
                 "      --sample-ms MS     sampling interval in ms (1..60000, default 10)\n"
                 "      --rate R           arrivals per second for open loads without stages\n"
                 "      --duration D       load duration with its unit: 5000ms, 5s, 2m\n"
                 "      --scheduler NAME   threads or coroutines\n"
                 "  -q, --quiet            no progress output and no table\n"
                 "      --leaky-cmd CMD    without SPEC: run your own programs as the pair\n"
                 "      --graceful-cmd CMD (split into words like a shell, no expansion;\n"
                 "                         {port} is the port they must listen on, also $PORT;\n"
                 "                         with --aa one of the two is enough)\n"
                 "      --probe KIND       their live tasks: go_pprof, threads or none (default)\n"
                 "      --ready PATH|tcp   ready when GET PATH answers 2xx, or tcp (default)\n"
                 "      --path TEMPLATE    the request path template (README \"Runs over HTTP\")\n"
                 "      --timeout D        client timeout with its unit (default 100ms)\n"
                 "      --settle D         settle window after the load (default 2s)\n"
                 "      --color WHEN       auto (default: on a terminal, unless NO_COLOR is\n"
                 "                         set), always or never\n"
                 "      --no-report        do not render report.md, report.html and charts\n"
                 "      --junit FILE       JUnit XML: a test case per threshold (and per\n"
                 "                         compared metric with --baseline)\n"
                 "      --history FILE     append this run's medians as one JSON line\n"
                 "      --save-baseline NAME  store the results as baseline NAME\n"
                 "      --baseline NAME    compare with baseline NAME (like `leakbench compare`)\n"
                 "                         baselines live in $LEAKBENCH_BASELINE_DIR or\n"
                 "                         reports/baselines, as NAME.json\n"
                 "      --shard I/N        run only shard I of N (split by scenario name; put\n"
                 "                         the shards back together with `leakbench merge`)\n"
                 "      --aa VARIANT       A/A run: VARIANT (leaky or graceful) on both sides,\n"
                 "                         reports the noise between identical runs\n"
                 "  -h, --help             this help\n\n"
                 "exit codes: 0 done (a fired guard is a result), 1 a threshold failed or\n"
                 "--baseline found a regression, 2 bad usage or invalid or unreadable spec\n"
                 "(nothing ran), 3 the output directory cannot be written or is not a run\n"
                 "directory (nothing ran), the new run could not be written completely (the run\n"
                 "directory is left as it was), or a run could not be carried out or its\n"
                 "request accounting did not balance (results still written), 4 --baseline "
                 "comparison inconclusive, 5 gnuplot not\n"
                 "found (report written without charts), 130 interrupted (partial results\n"
                 "written, status \"interrupted\").\n");
}

static bool parse_number(const char *text, double min, double max, double *out)
{
    double v;
    if (!lb_scan_decimal(text, &v) || v < min || v > max) return false;
    *out = v;
    return true;
}

/* Long options without a short form. */
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
    OPT_BASELINE,
    OPT_LEAKY_CMD,
    OPT_GRACEFUL_CMD,
    OPT_PROBE,
    OPT_READY,
    OPT_PATH,
    OPT_TIMEOUT,
    OPT_SETTLE,
    OPT_SHARD,
    OPT_AA,
    OPT_COLOR,
    OPT_FORMAT
};

/* --timeout, --settle: a duration with its unit, into *ms.  0 or -1 with
 * the message on stderr. */
static int parse_target_duration(const char *option, const char *arg, double max, double *ms)
{
    char shown[128];
    if (!lb_scan_duration_ms(arg, ms) || *ms < 0 || *ms > max) {
        fprintf(stderr,
                "leakbench run: %s: '%s' is not a duration with its unit (80ms, 2s; at most "
                "%g ms)\n",
                option, lb_escape_controls(shown, sizeof shown, arg), max);
        return -1;
    }
    return 0;
}

/* --reps, --sample-ms, --rate, --duration, --scheduler: checks ARG and
 * sets the override.  0, or -1 with the message on stderr. */
static int parse_override(int c, const char *arg, lb_spec_overrides *ov)
{
    double v;
    char shown[128];
    switch (c) {
    case OPT_REPS:
        if (!parse_number(arg, 1, 1000, &v) || v != floor(v)) {
            fprintf(stderr, "leakbench run: --reps: '%s' is not an integer in 1..1000\n",
                    lb_escape_controls(shown, sizeof shown, arg));
            return -1;
        }
        ov->repetitions = (int)v;
        return 0;
    case OPT_SAMPLE:
        if (!parse_number(arg, 1, 60000, &v)) {
            fprintf(stderr, "leakbench run: --sample-ms: '%s' is not a number in 1..60000\n",
                    lb_escape_controls(shown, sizeof shown, arg));
            return -1;
        }
        ov->sample_ms = v;
        return 0;
    case OPT_RATE:
        if (!parse_number(arg, 1e-9, 1e6, &v)) {
            fprintf(stderr, "leakbench run: --rate: '%s' is not a rate in (0, 1e6]\n",
                    lb_escape_controls(shown, sizeof shown, arg));
            return -1;
        }
        ov->rate = v;
        return 0;
    case OPT_DURATION:
        if (!lb_scan_duration_ms(arg, &v) || v <= 0 || v > 86400000.0) {
            fprintf(stderr,
                    "leakbench run: --duration: '%s' is not a duration with its unit (5000ms, "
                    "5s, 2m; more than 0, at most a day)\n",
                    lb_escape_controls(shown, sizeof shown, arg));
            return -1;
        }
        ov->duration_ms = v;
        return 0;
    default: { /* OPT_SCHED */
        rt_sched_kind k;
        if (rt_sched_parse(arg, &k) != 0) {
            fprintf(stderr,
                    "leakbench run: --scheduler: unknown scheduler '%s' (threads or coroutines)\n",
                    lb_escape_controls(shown, sizeof shown, arg));
            return -1;
        }
        ov->scheduler = (int)k;
        return 0;
    }
    }
}

/* 0 to run, 1 after --help, -1 on a bad command line (message on stderr). */
static int parse_options(int argc, char **argv, run_options *o)
{
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
        {"leaky-cmd", required_argument, NULL, OPT_LEAKY_CMD},
        {"graceful-cmd", required_argument, NULL, OPT_GRACEFUL_CMD},
        {"probe", required_argument, NULL, OPT_PROBE},
        {"ready", required_argument, NULL, OPT_READY},
        {"path", required_argument, NULL, OPT_PATH},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"settle", required_argument, NULL, OPT_SETTLE},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"aa", required_argument, NULL, OPT_AA},
        {"color", required_argument, NULL, OPT_COLOR},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (run_options){.out_dir = "reports/latest",
                       .overrides = LB_SPEC_NO_OVERRIDES,
                       .target = LB_CMDLINE_TARGET_NONE};
    optind = 1;
    opterr = 0;
    int c;
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
        case OPT_SHARD:
        case OPT_AA:
            if (lb_run_ci_option(&o->ci, c == OPT_AA ? "aa" : "shard", optarg)) return -1;
            break;
        case OPT_COLOR:
            if (lb_cli_color_option("run", optarg, &o->gate.color)) return -1;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
                char shown[128];
                fprintf(stderr, "leakbench run: --format: '%s' is not text or json\n",
                        lb_escape_controls(shown, sizeof shown, optarg));
                return -1;
            }
            o->json_stdout = !strcmp(optarg, "json");
            break;
        case OPT_REPS:
        case OPT_SAMPLE:
        case OPT_RATE:
        case OPT_DURATION:
        case OPT_SCHED:
            if (parse_override(c, optarg, &o->overrides)) return -1;
            break;
        case OPT_LEAKY_CMD:
            o->target.leaky_cmd = optarg;
            break;
        case OPT_GRACEFUL_CMD:
            o->target.graceful_cmd = optarg;
            break;
        case OPT_PROBE:
            o->target.probe = optarg;
            break;
        case OPT_READY:
            o->target.ready = optarg;
            break;
        case OPT_PATH:
            o->target.path = optarg;
            break;
        case OPT_TIMEOUT:
            if (parse_target_duration("--timeout", optarg, 86400000.0, &o->target.timeout_ms))
                return -1;
            break;
        case OPT_SETTLE:
            if (parse_target_duration("--settle", optarg, 86400000.0, &o->target.settle_ms))
                return -1;
            break;
        default: /* '?' or ':' */
            lb_cli_bad_option(stderr, "run", c, argv, longopts);
            return -1;
        }
    }
    if (!strcmp(o->out_dir, "-")) {
        o->json_stdout = o->no_files = o->no_report = true;
    }
    if (lb_cmdline_target_given(&o->target)) {
        if (optind < argc) {
            fprintf(stderr, "leakbench run: --leaky-cmd and its options build the scenario: give "
                            "them or SPEC files, not both\n");
            return -1;
        }
        if (o->overrides.rate < 0 || o->overrides.duration_ms < 0) {
            fprintf(stderr, "leakbench run: --leaky-cmd needs --rate and --duration (the load)\n");
            return -1;
        }
        return 0;
    }
    if (optind >= argc) {
        fprintf(stderr, "leakbench run: no SPEC given\n");
        usage(stderr);
        return -1;
    }
    return 0;
}

/* What one `leakbench run` carries from step to step. */
typedef struct run_state {
    run_options opt;
    int n_specs, n_loaded;
    char **paths; /* the SPEC arguments */
    lb_spec *specs;
    const char **descriptions; /* each spec file's (a suite's) "description" */
    char **command;            /* "leakbench" + argv, for results "command" */
    int n_command;
    lb_results results;
    bool run_failed;  /* a run could not be carried out or did not balance */
    json_t *doc;      /* the results document, built once after the runs */
    lb_rundir rundir; /* the run directory, written in staging and swapped in */
} run_state;

/* Step 1: every spec loads and takes the overrides, the gate's options
 * hold and the output directory is writable — before anything runs.
 * LB_EXIT_OK, LB_EXIT_USAGE or LB_EXIT_ERROR (message on stderr). */
static int check_inputs(run_state *st, int argc, char **argv)
{
    static char *cmdline_path[] = {"the command line"};
    bool cmdline = lb_cmdline_target_given(&st->opt.target);
    st->n_specs = cmdline ? 1 : argc - optind;
    st->paths = cmdline ? cmdline_path : argv + optind;
    st->specs = calloc((size_t)st->n_specs, sizeof *st->specs);
    st->descriptions = calloc((size_t)st->n_specs, sizeof *st->descriptions);
    st->command = calloc((size_t)argc + 2, sizeof *st->command);
    if (!st->specs || !st->descriptions || !st->command) return LB_EXIT_ERROR;
    st->command[0] = "leakbench";
    for (int i = 0; i < argc; i++) st->command[i + 1] = argv[i];
    st->n_command = argc + 1;
    lb_spec_error err;
    for (int i = 0; i < st->n_specs; i++) {
        if (cmdline && lb_cmdline_target_load(&st->opt.target, st->opt.ci.aa, &st->specs[i],
                                              err.text, sizeof err.text) != 0) {
            fprintf(stderr, "leakbench run: %s\n", err.text);
            return LB_EXIT_USAGE;
        }
        if (!cmdline && lb_spec_load(st->paths[i], &st->specs[i], &err) != 0) {
            fprintf(stderr, "leakbench run: %s\n", err.text);
            return LB_EXIT_USAGE;
        }
        st->n_loaded++;
        st->descriptions[i] = st->specs[i].description;
        if (lb_spec_apply_overrides(&st->specs[i], &st->opt.overrides, &err) != 0) {
            fprintf(stderr, "leakbench run: %s\n", err.text);
            return LB_EXIT_USAGE;
        }
    }
    int code = lb_gate_check_options(&st->opt.gate);
    if (code != LB_EXIT_OK) return code;
    char derr[4400];
    /* The staging directory exists from here on: target runs write their
     * logs into it. */
    if (!st->opt.no_files &&
        (lb_rundir_check(st->opt.out_dir, derr, sizeof derr) != 0 ||
         lb_rundir_stage(&st->rundir, st->opt.out_dir, derr, sizeof derr) != 0)) {
        fprintf(stderr, "leakbench run: %s\n", derr);
        return LB_EXIT_ERROR;
    }
    return lb_run_ci_prepare(&st->opt.ci, st->specs, st->n_specs, st->opt.quiet);
}

/* Says what is wrong with a run that is not a measurement to trust: it
 * crashed, or (completed) its requests did not all end exactly once.
 * False for such a run. */
static bool run_is_sound(const lb_scenario_spec *s, const lb_run_result *run)
{
    const char *variant = run->leaky ? "leaky" : "graceful";
    if (run->status == LB_RUN_CRASHED || run->status == LB_RUN_TARGET_FAILED) {
        fprintf(stderr, "leakbench run: %s %s rep %d: %s\n", s->name, variant, run->rep,
                run->error);
        return false;
    }
    const lb_accounting *a = &run->accounting;
    if (run->status != LB_RUN_COMPLETED || a->balanced) return true;
    fprintf(stderr,
            "leakbench run: ACCOUNTING VIOLATION in %s %s rep %d: submitted %lld != completed "
            "%lld + timed_out %lld + failed %lld + rejected %lld + cancelled %lld (%lld "
            "unanswered)\n",
            s->name, variant, run->rep, (long long)a->submitted,
            (long long)a->outcome[LB_COMPLETED], (long long)a->outcome[LB_TIMED_OUT],
            (long long)a->outcome[LB_FAILED], (long long)a->outcome[LB_REJECTED],
            (long long)a->outcome[LB_CANCELLED], (long long)a->unanswered);
    return false;
}

/* Runs one scenario's twins, interleaved L G L G ... over its repetitions,
 * into sr (until interrupted). */
static void run_scenario(run_state *st, lb_scenario_result *sr, int64_t mem_available,
                         lb_progress *progress)
{
    const lb_scenario_spec *s = sr->spec;
    lb_run_options ropt = {0, lb_progress_sample, progress,
                           st->rundir.stage[0] ? st->rundir.stage : NULL};
    lb_guards limits;
    lb_guards_resolve(s, mem_available > 0 ? mem_available : 0, &limits);
    for (int rep = 0; rep < s->repetitions && !lb_interrupted; rep++) {
        for (int v = 0; v < 2 && !lb_interrupted; v++) {
            bool leaky = v == 0;
            lb_progress_run_start(progress, s, leaky, rep);
            lb_run_result run;
            int rc = lb_run_one(s, leaky, rep, &limits, &ropt, &run);
            if (rc) {
                fprintf(stderr, "leakbench run: %s %s rep %d: cannot run: %s\n", s->name,
                        leaky ? "leaky" : "graceful", rep, strerror(-rc));
                st->run_failed = true;
                continue;
            }
            lb_progress_run_done(progress, &run);
            if (!run_is_sound(s, &run)) st->run_failed = true;
            if (lb_scenario_result_add(sr, &run) != 0) {
                lb_run_result_free(&run);
                st->run_failed = true;
            }
        }
    }
}

/* Step 2: every scenario of every spec, in order.  LB_EXIT_OK or
 * LB_EXIT_ERROR (out of memory); failed runs set st->run_failed. */
static int run_specs(run_state *st)
{
    lb_results *r = &st->results;
    r->started_at = time(NULL);
    r->argc = st->n_command;
    r->argv = st->command;
    r->n_paths = st->n_specs;
    r->spec_paths = (const char *const *)st->paths;
    r->spec_descriptions = st->descriptions;
    lb_host_read(&r->host);
    int total_items = 0, total_runs = 0;
    double planned_s = 0;
    for (int i = 0; i < st->n_specs; i++)
        for (int k = 0; k < st->specs[i].n; k++) {
            if (!lb_run_ci_selected(&st->opt.ci, &st->specs[i].items[k])) continue;
            total_items++;
            total_runs += 2 * st->specs[i].items[k].repetitions;
            planned_s += 2 * st->specs[i].items[k].repetitions *
                         lb_progress_planned_s(&st->specs[i].items[k]);
        }
    r->scenarios = calloc(total_items ? (size_t)total_items : 1, sizeof *r->scenarios);
    if (!r->scenarios) return LB_EXIT_ERROR;
    lb_progress progress;
    lb_progress_init(&progress, stderr, st->opt.quiet, total_runs, planned_s);
    lb_runner_install_signals();
    int64_t mem_available = lb_mem_available();
    for (int i = 0; i < st->n_specs && !lb_interrupted; i++)
        for (int k = 0; k < st->specs[i].n && !lb_interrupted; k++) {
            if (!lb_run_ci_selected(&st->opt.ci, &st->specs[i].items[k])) continue;
            lb_scenario_result *sr = &r->scenarios[r->n_scenarios++];
            sr->spec = &st->specs[i].items[k];
            run_scenario(st, sr, mem_available, &progress);
        }
    r->interrupted = lb_interrupted != 0;
    r->finished_at = time(NULL);
    return LB_EXIT_OK;
}

/* Where the table and the other lines for people go: stderr when stdout
 * carries the results document (--format json, -o -). */
static FILE *human_out(const run_options *o)
{
    return o->json_stdout ? stderr : stdout;
}

/* --format json, -o -: the document, and nothing else, on stdout. */
static int print_results(const json_t *doc)
{
    char *text = lb_results_text(doc);
    int rc = text && fputs(text, stdout) >= 0 && fputc('\n', stdout) != EOF && !fflush(stdout);
    free(text);
    if (rc) return LB_EXIT_OK;
    fprintf(stderr, "leakbench run: cannot print the results on stdout\n");
    return LB_EXIT_ERROR;
}

/* Step 3: the results document, built once, with its threshold verdicts;
 * written as results.json and samples.csv; the table and the gate
 * (thresholds printed, --baseline, --junit, --history, --save-baseline)
 * read it.  Returns the gate's code; *write_code is LB_EXIT_ERROR when the
 * results could not be written. */
static int write_and_gate(run_state *st, int *write_code)
{
    lb_results *r = &st->results;
    st->doc = lb_results_build(r);
    if (st->doc && lb_run_ci_mark(&st->opt.ci, st->doc, st->specs, st->n_specs)) {
        json_decref(st->doc);
        st->doc = NULL;
    }
    if (!st->doc) {
        fprintf(stderr, "leakbench run: out of memory building the results\n");
        *write_code = LB_EXIT_ERROR;
        return LB_EXIT_ERROR;
    }
    int gate_code = lb_run_ci_thresholds(&st->opt.ci)
                        ? lb_gate_thresholds(st->doc, r->scenarios, r->n_scenarios, r->interrupted)
                        : LB_EXIT_OK;
    char werr[4600];
    *write_code = LB_EXIT_OK;
    if (!st->opt.no_files && lb_results_write(st->rundir.stage, st->doc, werr, sizeof werr) != 0) {
        fprintf(stderr, "leakbench run: %s\n", werr);
        *write_code = LB_EXIT_ERROR;
    }
    FILE *human = human_out(&st->opt);
    if (!st->opt.quiet) {
        /* The terminal view reads the results document, as the report does. */
        int columns = lb_tty_columns(fileno(human));
        lb_table_print_intro(human, st->doc, columns);
        const json_t *scenarios = json_object_get(st->doc, "scenarios");
        for (size_t i = 0; i < json_array_size(scenarios) && !st->opt.ci.aa; i++)
            lb_table_print(human, json_array_get(scenarios, i),
                           lb_color_enabled(st->opt.gate.color, fileno(human)), columns);
        if (st->opt.ci.aa) lb_aa_noise_print(human, st->doc);
    }
    bool complete = !lb_interrupted && !st->run_failed && *write_code == LB_EXIT_OK;
    gate_code = lb_gate_combine(
        gate_code, lb_gate_finish(&st->opt.gate, st->doc, complete, st->opt.quiet, human));
    fflush(human);
    if (st->opt.json_stdout && print_results(st->doc) != LB_EXIT_OK) *write_code = LB_EXIT_ERROR;
    return gate_code;
}

/* Step 4: report.md, report.html and charts/ from the same document
 * (report/report.h), into the staging directory.  A missing gnuplot or a
 * failed gnuplot is reported but does not hide a worse exit status (the
 * report says the charts are missing).  Returns LB_EXIT_OK,
 * LB_EXIT_ERROR or LB_EXIT_NO_GNUPLOT; report->written is false when
 * report.md or report.html could not be written, report->charts_unwritten
 * true when chart files could not be written whole. */
static int render_report(const run_state *st, lb_report_result *report)
{
    lb_report_opts report_opts = {.charts = true};
    int rc = lb_report_render(st->doc, st->rundir.stage, &report_opts, report);
    int code = lb_exit_for_report(rc, report);
    if (code != LB_EXIT_OK) fprintf(stderr, "leakbench run: %s\n", report->message);
    return code == LB_EXIT_USAGE ? LB_EXIT_ERROR : code;
}

static void free_state(run_state *st)
{
    lb_rundir_discard(&st->rundir);
    json_decref(st->doc);
    lb_results_free(&st->results);
    for (int i = 0; i < st->n_loaded; i++) lb_spec_free(&st->specs[i]);
    free(st->specs);
    free(st->descriptions);
    free(st->command);
    lb_run_ci_free(&st->opt.ci);
}

static int run_main(int argc, char **argv)
{
    run_state st = {0};
    int rc = parse_options(argc, argv, &st.opt);
    if (rc) return rc > 0 ? LB_EXIT_OK : LB_EXIT_USAGE;
    int exit_code = check_inputs(&st, argc, argv);
    if (exit_code == LB_EXIT_OK) exit_code = run_specs(&st);
    if (exit_code != LB_EXIT_OK) {
        free_state(&st);
        return exit_code;
    }
    int gate_code = write_and_gate(&st, &exit_code);
    lb_report_result report;
    bool results_written = exit_code == LB_EXIT_OK;
    bool rendered = results_written && !st.opt.no_report;
    if (rendered) exit_code = render_report(&st, &report);
    /* Step 5: the staging directory replaces the run directory when
     * everything was written into it; otherwise DIR stays as it was. */
    exit_code = lb_run_output_commit(&st.rundir, st.opt.out_dir, "run", results_written,
                                     rendered ? &report : NULL, st.opt.quiet, human_out(&st.opt),
                                     exit_code);
    if (lb_interrupted) {
        /* Also a signal that arrived after the runs, while the table, the
         * gate or the charts were written (gnuplot dies of the same
         * Ctrl-C): 130, never a gnuplot failure with an empty reason. */
        fprintf(stderr, "leakbench run: interrupted by %s; %s\n", strsignal(lb_interrupted),
                st.results.interrupted ? "partial results written"
                                       : "results written, the report may be incomplete");
        exit_code = LB_EXIT_INTERRUPTED;
    } else if (st.run_failed && exit_code == LB_EXIT_OK) {
        exit_code = LB_EXIT_ERROR;
    }
    exit_code = lb_gate_combine(exit_code, gate_code);
    free_state(&st);
    return exit_code;
}

static const lb_command cmd_run = {"run", "run scenario pairs and measure them (writes results)",
                                   run_main};
LB_COMMAND(cmd_run)
