/*
 * cmd_compare.c — `leakbench compare BASE.json NEW.json`: compares two
 * results files (or run directories), loaded through run/results_load.h,
 * metric by metric (rules in compare.h; --noise-from takes the noise
 * threshold from A/A runs, ci/aa_noise.h), prints a table,
 * optionally writes Markdown and JUnit, and exits 0 (pass), 1 (a metric
 * regressed), 4 (inconclusive) or 2 (bad command line or input file;
 * nothing is written then).
 */
#include "cli.h"
#include "options.h"
#include "terminal.h"
#include "core/units.h"
#include "ci/aa_noise.h"
#include "ci/compare.h"
#include "ci/junit.h"
#include "core/outfile.h"
#include "run/results_load.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: leakbench compare [options] BASE.json NEW.json\n\n"
                 "Compares two results files (or run directories) per scenario, variant and\n"
                 "metric: base and new medians, ratio, change and a verdict (improved,\n"
                 "regressed, unchanged, inconclusive).  With >= 2 runs per side and enough\n"
                 "of them for the test to reach alpha, a two-sided Mann-Whitney U test must\n"
                 "confirm a change beyond the noise threshold; otherwise the noise threshold\n"
                 "alone decides.\n\n"
                 "options:\n"
                 "  --alpha P        significance level of the U test (default 0.05)\n"
                 "  --noise F        relative change treated as noise (default 0.05 = 5%%)\n"
                 "  --noise-from AA.json  use the noise an A/A run (`run --aa VARIANT`)\n"
                 "                   measured, per scenario and metric, for that variant's\n"
                 "                   rows instead of --noise (once per variant)\n"
                 "  --markdown FILE  also write the comparison as Markdown\n"
                 "  --junit FILE     also write JUnit XML (a test case per compared metric)\n"
                 "  --all            print every row (default: only the rows that changed,\n"
                 "                   then one summary line per scenario)\n"
                 "  --only-changed   the default; accepted for older scripts\n"
                 "  --all-metrics    also gate on CPU time and latency p99.9/max (shown as\n"
                 "                   \"info\" and not gated by default: too volatile)\n"
                 "  --color WHEN     auto (default: on a terminal, unless NO_COLOR is set),\n"
                 "                   always or never\n"
                 "  -h, --help       this text\n\n"
                 "exit: 0 pass, 1 a metric regressed, 4 inconclusive, 2 bad usage or input,\n"
                 "3 an output file could not be written\n");
}

/* Parses a number in [lo, hi]; false on junk. */
static bool parse_fraction(const char *s, double lo, double hi, bool open_lo, double *out)
{
    double v;
    if (!lb_scan_decimal(s, &v) || v > hi || v < lo || (open_lo && v == lo)) return false;
    *out = v;
    return true;
}

/* One side: a results file or run directory through the one loader;
 * compare pairs scenarios by name, so names must be unique. */
static int load_input(const char *path, json_t **doc, char *err, size_t errlen)
{
    int rc = lb_results_load(path, doc, err, errlen);
    if (!rc && (rc = lb_results_check_unique_names(*doc, path, err, errlen))) {
        json_decref(*doc);
        *doc = NULL;
    }
    return rc;
}

/* What the command line asked for. */
typedef struct compare_args {
    lb_compare_opts opts;
    const char *markdown, *junit; /* --markdown FILE, --junit FILE */
    const char *noise_from[2];    /* --noise-from FILE, at most one per variant */
    int n_noise_from;
    bool all;            /* --all: every row, unchanged ones too */
    lb_color_mode color; /* --color */
    const char *base_path, *new_path;
} compare_args;

/* LB_EXIT_OK to compare, or the exit code to return now (after --help:
 * -1 as "exit 0"; a bad command line: LB_EXIT_USAGE). */
static int parse_args(int argc, char **argv, compare_args *a)
{
    static const struct option longopts[] = {
        {"alpha", required_argument, NULL, 'a'},
        {"noise", required_argument, NULL, 'n'},
        {"markdown", required_argument, NULL, 'm'},
        {"junit", required_argument, NULL, 'j'},
        {"only-changed", no_argument, NULL, 'c'},
        {"all", no_argument, NULL, 'l'},
        {"all-metrics", no_argument, NULL, 'A'},
        {"noise-from", required_argument, NULL, 'N'},
        {"color", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (compare_args){.opts = LB_COMPARE_DEFAULTS};
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            if (!parse_fraction(optarg, 0, 0.5, true, &a->opts.alpha)) {
                fprintf(stderr, "leakbench compare: --alpha %s: expected a number in (0, 0.5]\n",
                        optarg);
                return LB_EXIT_USAGE;
            }
            break;
        case 'n':
            if (!parse_fraction(optarg, 0, 10, false, &a->opts.noise)) {
                fprintf(stderr,
                        "leakbench compare: --noise %s: expected a fraction in [0, 10], e.g. "
                        "0.05 for 5%%\n",
                        optarg);
                return LB_EXIT_USAGE;
            }
            break;
        case 'm':
            a->markdown = optarg;
            break;
        case 'N':
            if (a->n_noise_from == 2) {
                fprintf(stderr, "leakbench compare: --noise-from: at most two (one per variant)\n");
                return LB_EXIT_USAGE;
            }
            a->noise_from[a->n_noise_from++] = optarg;
            break;
        case 'j':
            a->junit = optarg;
            break;
        case 'c': /* the default now; kept so scripts that pass it still work */
            a->all = false;
            break;
        case 'l':
            a->all = true;
            break;
        case 'A':
            a->opts.all_metrics = true;
            break;
        case 'C':
            if (lb_cli_color_option("compare", optarg, &a->color)) return LB_EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            return lb_cli_bad_option(stderr, "compare", opt, argv, longopts);
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "leakbench compare: expected BASE.json and NEW.json\n");
        usage(stderr);
        return LB_EXIT_USAGE;
    }
    a->base_path = argv[optind];
    a->new_path = argv[optind + 1];
    return LB_EXIT_OK;
}

/* --markdown and --junit: LB_EXIT_OK, or LB_EXIT_ERROR (message printed). */
static int write_outputs(const compare_args *a, const lb_comparison *c)
{
    char err[1024];
    int code = LB_EXIT_OK;
    if (a->markdown &&
        lb_comparison_write_markdown(a->markdown, c, a->base_path, a->new_path, err, sizeof err)) {
        fprintf(stderr, "leakbench compare: %s\n", err);
        code = LB_EXIT_ERROR;
    }
    if (a->junit) {
        lb_junit *j = lb_junit_new();
        int rc = j ? lb_junit_add_comparison(j, c) : -ENOMEM;
        if (!rc)
            rc = lb_junit_write(j, a->junit, err, sizeof err);
        else
            snprintf(err, sizeof err, "%s: out of memory", a->junit);
        if (rc) {
            fprintf(stderr, "leakbench compare: %s\n", err);
            code = LB_EXIT_ERROR;
        }
        lb_junit_free(j);
    }
    return code;
}

/* --noise-from: each file an A/A run, through the one loader, its
 * document (kept in docs[i], freed by the caller) set as opts.noise_from
 * of the variant it ran.  LB_EXIT_OK, or the exit code with the message
 * on stderr. */
static int load_noise(compare_args *a, json_t *docs[2])
{
    char err[1024];
    for (int i = 0; i < a->n_noise_from; i++) {
        int rc = lb_results_load(a->noise_from[i], &docs[i], err, sizeof err);
        if (!rc) rc = lb_aa_check(docs[i], a->noise_from[i], err, sizeof err);
        if (rc) {
            fprintf(stderr, "leakbench compare: --noise-from: %s\n", err);
            return rc == -ENOMEM ? LB_EXIT_ERROR : LB_EXIT_USAGE;
        }
        const json_t *doc = docs[i];
        int v = strcmp(lb_aa_variant(doc), lb_variants[0]) ? 1 : 0;
        if (a->opts.noise_from[v]) {
            fprintf(stderr, "leakbench compare: --noise-from %s: a second A/A run of %s\n",
                    a->noise_from[i], lb_variants[v]);
            return LB_EXIT_USAGE;
        }
        a->opts.noise_from[v] = doc;
    }
    return LB_EXIT_OK;
}

/* Compares, prints and writes --markdown and --junit: the exit code. */
static int compare_and_report(const compare_args *a, const json_t *base, const json_t *next)
{
    lb_comparison c;
    if (lb_compare(base, next, &a->opts, &c)) {
        fprintf(stderr, "leakbench compare: out of memory\n");
        lb_comparison_free(&c);
        return LB_EXIT_ERROR;
    }
    lb_compare_view view = {a->all, lb_color_enabled(a->color, STDOUT_FILENO),
                            lb_tty_columns(STDOUT_FILENO)};
    lb_comparison_print(stdout, &c, a->base_path, a->new_path, &view);
    int code = lb_exit_for_comparison(&c);
    int written = write_outputs(a, &c);
    lb_comparison_free(&c);
    return written != LB_EXIT_OK ? written : code;
}

static int compare_main(int argc, char **argv)
{
    compare_args a;
    int code = parse_args(argc, argv, &a);
    if (code != LB_EXIT_OK) return code < 0 ? LB_EXIT_OK : code;
    char err[1024];
    /* Output paths before any work: exit 3, as for an unwritable -o. */
    const char *outputs[2][2] = {{"--markdown", a.markdown}, {"--junit", a.junit}};
    for (int i = 0; i < 2; i++)
        if (outputs[i][1] && lb_check_user_file(outputs[i][1], err, sizeof err)) {
            fprintf(stderr, "leakbench compare: %s %s\n", outputs[i][0], err);
            return LB_EXIT_ERROR;
        }
    json_t *noise_docs[2] = {NULL, NULL};
    code = load_noise(&a, noise_docs);
    if (code != LB_EXIT_OK) {
        json_decref(noise_docs[0]);
        json_decref(noise_docs[1]);
        return code;
    }
    json_t *base = NULL, *next = NULL;
    int rc = load_input(a.base_path, &base, err, sizeof err);
    if (!rc) rc = load_input(a.new_path, &next, err, sizeof err);
    if (rc) {
        fprintf(stderr, "leakbench compare: %s\n", err);
        code = rc == -ENOMEM ? LB_EXIT_ERROR : LB_EXIT_USAGE;
    } else {
        code = compare_and_report(&a, base, next);
    }
    json_decref(base);
    json_decref(next);
    json_decref(noise_docs[0]);
    json_decref(noise_docs[1]);
    return code;
}

static const lb_command compare_command = {
    .name = "compare",
    .summary = "compare two results files metric by metric (U test + noise threshold)",
    .main = compare_main,
};
LB_COMMAND(compare_command)
