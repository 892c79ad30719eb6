/*
 * compare_test.c — `leakbench compare` fed doctored results: a regression
 * beyond noise, a change within noise, an improvement, an inconclusive
 * change, nulls, with and without repetitions; verdicts and exit codes
 * through the real command; bad input named by file and position with
 * nothing written; Markdown and JUnit output (JUnit checked with xmllint
 * when it is installed, and by counting elements always); the terminal
 * view (changed rows with why, one hyperfine-style line per scenario,
 * --all) with colour on and off.
 */
#include "cli/cli.h"
#include "compare.h"
#include "junit.h"
#include "core/test_util.h"
#include "run/results_load.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define REPS5  "harness/testdata/results-reps5.json"
#define SINGLE "harness/testdata/results-single.json"

static char tmpdir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "compare");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

static json_t *load(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) print_error("%s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
    assert_non_null(doc);
    return doc;
}

static json_t *scenario0(json_t *doc)
{
    return json_array_get(json_object_get(doc, "scenarios"), 0);
}

/* Sets metrics.KEY of the variant's run number rep (or every run when rep
 * is -1) to value * factor of its old value (factor 0: to value), and
 * drops the summary entry so medians come from the runs. */
static void doctor(json_t *doc, const char *variant, const char *key, int rep, double factor,
                   json_t *value)
{
    json_t *s = scenario0(doc);
    json_t *runs = json_object_get(s, "runs");
    size_t i;
    json_t *run;
    int seen = 0;
    json_array_foreach(runs, i, run)
    {
        if (strcmp(json_string_value(json_object_get(run, "variant")), variant)) continue;
        if (rep >= 0 && seen++ != rep) continue;
        json_t *metrics = json_object_get(run, "metrics");
        json_t *old = json_object_get(metrics, key);
        if (value)
            json_object_set(metrics, key, value);
        else
            json_object_set_new(metrics, key, json_real(json_number_value(old) * factor));
    }
    json_object_del(json_object_get(json_object_get(s, "summary"), variant), key);
    json_decref(value);
}

static void save(json_t *doc, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", tmpdir, name);
    assert_int_equal(json_dump_file(doc, path, JSON_INDENT(1)), 0);
}

/* Runs the registered compare command in-process. */
static int run_compare(const char *base, const char *next, const char *extra1, const char *extra2)
{
    const lb_command *cmd = lb_command_find("compare");
    assert_non_null(cmd);
    char *argv[8] = {"compare", (char *)base, (char *)next};
    int argc = 3;
    if (extra1) argv[argc++] = (char *)extra1;
    if (extra2) argv[argc++] = (char *)extra2;
    argv[argc] = NULL;
    return lb_test_call_quietly(cmd->main, argc, argv);
}

static const lb_compare_row *row(const lb_comparison *c, const char *variant, const char *metric)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->rows[i].metric && !strcmp(c->rows[i].variant, variant) &&
            !strcmp(c->rows[i].metric->name, metric))
            return &c->rows[i];
    fail_msg("no row %s.%s", variant, metric);
    return NULL;
}

static void compare_docs(json_t *base, json_t *next, lb_comparison *c)
{
    lb_compare_opts o = LB_COMPARE_DEFAULTS;
    assert_int_equal(lb_compare(base, next, &o, c), 0);
}

static void identical_runs_pass(void **state)
{
    (void)state;
    assert_int_equal(run_compare(REPS5, REPS5, NULL, NULL), LB_EXIT_OK);
    assert_int_equal(run_compare(SINGLE, SINGLE, NULL, NULL), LB_EXIT_OK);
}

static void regression_beyond_noise_with_reps(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    doctor(next, "graceful", "peak_tasks", -1, 1.5, NULL);
    lb_comparison c;
    compare_docs(base, next, &c);
    const lb_compare_row *r = row(&c, "graceful", "peak_tasks");
    assert_int_equal(r->verdict, LB_REGRESSED);
    assert_true(r->tested);
    assert_near(r->p, 2.0 / 252.0, 1e-12); /* 5 vs 5, complete separation */
    assert_near(r->delta, 1.0, 1e-12);
    assert_near(r->ratio, 1.5, 1e-12);
    assert_near(r->base, 122, 1e-12);
    assert_int_equal(c.count[LB_REGRESSED], 1);
    lb_comparison_free(&c);
    char path[256];
    save(next, "worse.json", path, sizeof path);
    assert_int_equal(run_compare(REPS5, path, NULL, NULL), LB_EXIT_FAIL);
    json_decref(base);
    json_decref(next);
}

static void change_within_noise_is_unchanged(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    doctor(next, "graceful", "peak_rss_bytes", -1, 1.03, NULL);
    doctor(next, "leaky", "throughput_rps", -1, 0.97, NULL);
    lb_comparison c;
    compare_docs(base, next, &c);
    const lb_compare_row *r = row(&c, "graceful", "peak_rss_bytes");
    assert_int_equal(r->verdict, LB_UNCHANGED);
    assert_true(r->tested && r->p < 0.05); /* significant, but too small to matter */
    assert_int_equal(row(&c, "leaky", "throughput_rps")->verdict, LB_UNCHANGED);
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_PASS);
    lb_comparison_free(&c);
    /* The same 3% with --noise 0.01 is a regression. */
    char path[256];
    save(next, "slightly.json", path, sizeof path);
    assert_int_equal(run_compare(REPS5, path, NULL, NULL), LB_EXIT_OK);
    assert_int_equal(run_compare(REPS5, path, "--noise", "0.01"), LB_EXIT_FAIL);
    json_decref(base);
    json_decref(next);
}

static void improvement_passes(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    doctor(next, "graceful", "peak_tasks", -1, 0.5, NULL);
    doctor(next, "graceful", "throughput_rps", -1, 1.2, NULL); /* higher is better */
    lb_comparison c;
    compare_docs(base, next, &c);
    assert_int_equal(row(&c, "graceful", "peak_tasks")->verdict, LB_IMPROVED);
    assert_int_equal(row(&c, "graceful", "throughput_rps")->verdict, LB_IMPROVED);
    assert_int_equal(c.count[LB_IMPROVED], 2);
    assert_int_equal(c.count[LB_REGRESSED], 0);
    lb_comparison_free(&c);
    char path[256];
    save(next, "better.json", path, sizeof path);
    assert_int_equal(run_compare(REPS5, path, NULL, NULL), LB_EXIT_OK);
    /* The other way round it is a regression. */
    assert_int_equal(run_compare(path, REPS5, NULL, NULL), LB_EXIT_FAIL);
    json_decref(base);
    json_decref(next);
}

static void without_reps_noise_decides(void **state)
{
    (void)state;
    json_t *base = load(SINGLE), *next = load(SINGLE);
    doctor(next, "graceful", "leaked_tasks", -1, 0, json_integer(3));
    doctor(next, "graceful", "peak_rss_bytes", -1, 1.04, NULL);
    lb_comparison c;
    compare_docs(base, next, &c);
    const lb_compare_row *r = row(&c, "graceful", "leaked_tasks");
    assert_int_equal(r->verdict, LB_REGRESSED); /* 0 -> 3: beyond any relative noise */
    assert_false(r->tested);
    assert_true(isinf(r->change));
    assert_int_equal(row(&c, "graceful", "peak_rss_bytes")->verdict, LB_UNCHANGED);
    lb_comparison_free(&c);
    char path[256];
    save(next, "leaks.json", path, sizeof path);
    assert_int_equal(run_compare(SINGLE, path, NULL, NULL), LB_EXIT_FAIL);
    json_decref(base);
    json_decref(next);
}

/* A median beyond noise whose samples overlap: the U test cannot
 * confirm it, so the verdict is inconclusive and the exit code 4. */
static void overlapping_samples_are_inconclusive(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    double p99[] = {4.0, 4.1, 8.0, 8.1, 8.2}; /* base: 5.0 .. 5.4 */
    for (int i = 0; i < 5; i++) {
        json_t *s = scenario0(next);
        size_t k;
        json_t *run;
        int seen = 0;
        json_array_foreach(json_object_get(s, "runs"), k, run)
        {
            if (strcmp(json_string_value(json_object_get(run, "variant")), "graceful")) continue;
            if (seen++ == i)
                json_object_set_new(json_object_get(json_object_get(run, "metrics"), "latency_ms"),
                                    "p99", json_real(p99[i]));
        }
    }
    json_object_del(json_object_get(json_object_get(scenario0(next), "summary"), "graceful"),
                    "latency_p99_ms");
    lb_comparison c;
    compare_docs(base, next, &c);
    const lb_compare_row *r = row(&c, "graceful", "latency_p99_ms");
    assert_int_equal(r->verdict, LB_INCONCLUSIVE);
    assert_true(r->tested && r->p > 0.05);
    assert_near(r->next, 8.0, 1e-12);
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_INCONCLUSIVE);
    lb_comparison_free(&c);
    char path[256];
    save(next, "noisy.json", path, sizeof path);
    assert_int_equal(run_compare(REPS5, path, NULL, NULL), LB_EXIT_INCONCLUSIVE);
    json_decref(base);
    json_decref(next);
}

/* CPU time and the latency tail are shown but not gated by default. */
static void volatile_metrics_are_info(void **state)
{
    (void)state;
    json_t *base = load(SINGLE), *next = load(SINGLE);
    doctor(next, "graceful", "cpu_user_s", -1, 3.0, NULL);
    lb_comparison c;
    compare_docs(base, next, &c);
    const lb_compare_row *r = row(&c, "graceful", "cpu_user_s");
    assert_int_equal(r->verdict, LB_REGRESSED);
    assert_true(r->info);
    assert_int_equal(c.count[LB_REGRESSED], 0);
    assert_int_equal(c.info_changed, 1);
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_PASS);
    lb_comparison_free(&c);
    char path[256];
    save(next, "cpu.json", path, sizeof path);
    assert_int_equal(run_compare(SINGLE, path, NULL, NULL), LB_EXIT_OK);
    assert_int_equal(run_compare(SINGLE, path, "--all-metrics", NULL), LB_EXIT_FAIL);
    json_decref(base);
    json_decref(next);
}

/* 3 + 3 runs can never reach p <= 0.05 (min p = 0.1): noise decides. */
static void too_few_reps_for_the_test(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    json_t *docs[2] = {base, next};
    for (int d = 0; d < 2; d++) {
        json_t *runs = json_object_get(scenario0(docs[d]), "runs");
        while (json_array_size(runs) > 6) json_array_remove(runs, json_array_size(runs) - 1);
        json_object_del(scenario0(docs[d]), "summary");
    }
    doctor(next, "graceful", "peak_tasks", -1, 2.0, NULL);
    lb_comparison c;
    compare_docs(base, next, &c);
    const lb_compare_row *r = row(&c, "graceful", "peak_tasks");
    assert_int_equal(r->n_base, 3);
    assert_false(r->tested);
    assert_int_equal(r->verdict, LB_REGRESSED);
    assert_non_null(strstr(r->note, "cannot reach"));
    lb_comparison_free(&c);
    json_decref(base);
    json_decref(next);
}

static void nulls(void **state)
{
    (void)state;
    json_t *base = load(SINGLE), *next = load(SINGLE);
    doctor(next, "graceful", "recovery_ms", -1, 0, json_null());
    doctor(next, "graceful", "recovered", -1, 0, json_false());
    lb_comparison c;
    compare_docs(base, next, &c);
    assert_int_equal(row(&c, "graceful", "recovery_ms")->verdict, LB_INCONCLUSIVE);
    assert_int_equal(row(&c, "graceful", "recovered")->verdict, LB_REGRESSED);
    assert_int_equal(row(&c, "leaky", "recovery_ms")->verdict, LB_UNCHANGED); /* null both */
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_REGRESSION);
    lb_comparison_free(&c);
    /* A field an older writer did not record is skipped, not judged. */
    json_t *old = load(SINGLE);
    size_t k;
    json_t *run;
    json_array_foreach(json_object_get(scenario0(old), "runs"), k, run)
        json_object_del(json_object_get(run, "metrics"), "shutdown_ms");
    json_object_del(json_object_get(json_object_get(scenario0(old), "summary"), "leaky"),
                    "shutdown_ms");
    json_object_del(json_object_get(json_object_get(scenario0(old), "summary"), "graceful"),
                    "shutdown_ms");
    compare_docs(old, base, &c);
    for (size_t i = 0; i < c.n; i++)
        assert_true(!c.rows[i].metric || strcmp(c.rows[i].metric->name, "shutdown_ms"));
    assert_non_null(strstr(c.notes, "shutdown_ms is not recorded in the base results"));
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_PASS);
    lb_comparison_free(&c);
    json_decref(old);
    /* An interrupted run is said to be partial. */
    json_object_set_new(next, "status", json_string("interrupted"));
    compare_docs(base, next, &c);
    assert_non_null(strstr(c.notes, "new run's status is \"interrupted\""));
    lb_comparison_free(&c);
    /* A scenario missing from the new run cannot be judged. */
    json_object_set_new(scenario0(next), "name", json_string("renamed"));
    compare_docs(base, next, &c);
    assert_int_equal(c.count[LB_INCONCLUSIVE], 1);
    assert_non_null(strstr(c.notes, "renamed is new"));
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_INCONCLUSIVE);
    lb_comparison_free(&c);
    json_decref(base);
    json_decref(next);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Bad input: exit 2, an error naming the file and the position, and no
 * output file. */
static void bad_input(void **state)
{
    (void)state;
    char bad[256], md[256], xml[256];
    snprintf(md, sizeof md, "%s/out.md", tmpdir);
    snprintf(xml, sizeof xml, "%s/out.xml", tmpdir);
    snprintf(bad, sizeof bad, "%s/truncated.json", tmpdir);
    FILE *f = fopen(bad, "w");
    fputs("{\"schema\": \"leakbench-results\",\n \"schema_version\": 2,\n \"scenarios\": [", f);
    fclose(f);
    char err[512];
    json_t *doc;
    assert_int_equal(lb_results_load(bad, &doc, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "truncated.json:3:"));
    const lb_command *cmd = lb_command_find("compare");
    char *argv[] = {"compare", "--markdown", md, "--junit", xml, REPS5, bad, NULL};
    assert_int_equal(cmd->main(7, argv), LB_EXIT_USAGE);
    assert_false(exists(md) || exists(xml));

    json_t *d = load(REPS5);
    json_object_set_new(
        json_object_get(json_array_get(json_object_get(scenario0(d), "runs"), 3), "metrics"),
        "peak_tasks", json_string("lots"));
    assert_int_equal(lb_results_validate(d, "x.json", err, sizeof err), -EINVAL);
    assert_string_equal(err, "x.json: scenarios[0].runs[3].metrics.peak_tasks: expected a "
                             "number or null, got a string");
    json_decref(d);

    d = load(REPS5);
    json_object_set_new(d, "schema_version", json_integer(4));
    assert_int_equal(lb_results_validate(d, "x.json", err, sizeof err), -EINVAL);
    assert_string_equal(err, "x.json: schema_version: version 4 is not supported (this leakbench "
                             "reads versions 2 and 3)");
    json_object_set_new(d, "schema_version", json_integer(1));
    assert_int_equal(lb_results_validate(d, "x.json", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "x.json: schema_version: version 1 was written by an older "
                                "leakbench; version 2 renamed the *_rss_mb metrics *_rss_mib"));
    json_object_set_new(d, "schema_version", json_integer(2));
    json_object_set_new(json_array_get(json_object_get(scenario0(d), "runs"), 0), "variant",
                        json_string("leakyy"));
    assert_int_equal(lb_results_validate(d, "x.json", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "x.json: scenarios[0].runs[0].variant: \"leakyy\" is not one of"));
    json_decref(d);

    /* Types are named as every loader names them (jsonutil.h): an integer
     * is "an integer", not "a number". */
    d = load(REPS5);
    json_object_set_new(scenario0(d), "runs", json_integer(5));
    assert_int_equal(lb_results_validate(d, "x.json", err, sizeof err), -EINVAL);
    assert_string_equal(err, "x.json: scenarios[0].runs: expected an array, got an integer");
    json_decref(d);

    assert_int_equal(run_compare(REPS5, "/nonexistent/results.json", NULL, NULL), LB_EXIT_USAGE);
    assert_int_equal(run_compare(REPS5, REPS5, "--alpha", "0"), LB_EXIT_USAGE);
    assert_int_equal(run_compare(REPS5, REPS5, "--noise", "5%"), LB_EXIT_USAGE);
    char *one_file[] = {"compare", REPS5, NULL};
    assert_int_equal(cmd->main(2, one_file), LB_EXIT_USAGE);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

/* A file whose summary medians disagree with its runs (the doctored file
 * that got "unchanged" with p = 0.008: summary from one data set, U test
 * from another) is refused by the loader, for compare and report alike. */
static void summary_that_disagrees_with_its_runs_is_refused(void **state)
{
    (void)state;
    json_t *doc = load(REPS5);
    json_t *entry = json_object_get(
        json_object_get(json_object_get(scenario0(doc), "summary"), "graceful"), "peak_tasks");
    json_object_set_new(entry, "median", json_integer(500));
    char path[256], err[1024];
    save(doc, "doctored.json", path, sizeof path);
    json_t *loaded = NULL;
    assert_int_equal(lb_results_load(path, &loaded, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "scenarios[0].summary.graceful.peak_tasks.median: 500, but the "
                                "median of its 5 runs is 122"));
    assert_int_equal(run_compare(REPS5, path, NULL, NULL), LB_EXIT_USAGE);
    json_decref(doc);
}

/* A complete run against an interrupted one: differences are no verdict
 * (exit 4, inconclusive, with the reason), never a regression (exit 1). */
static void interrupted_side_makes_changes_inconclusive(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    doctor(next, "graceful", "peak_tasks", -1, 1.5, NULL);
    json_object_set_new(next, "status", json_string("interrupted"));
    lb_comparison c;
    compare_docs(base, next, &c);
    const lb_compare_row *r = row(&c, "graceful", "peak_tasks");
    assert_int_equal(r->verdict, LB_INCONCLUSIVE);
    assert_non_null(strstr(r->note, "the new results are partial (run interrupted)"));
    assert_int_equal(c.count[LB_REGRESSED], 0);
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_INCONCLUSIVE);
    lb_comparison_free(&c);
    char path[256];
    save(next, "interrupted.json", path, sizeof path);
    assert_int_equal(run_compare(REPS5, path, NULL, NULL), LB_EXIT_INCONCLUSIVE);
    json_decref(base);
    json_decref(next);
}

static void markdown_and_junit(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    /* A hostile scenario name must come out escaped. */
    const char *nasty = "pipe<&\"'>]]>\x01|`*";
    json_object_set_new(scenario0(base), "name", json_string(nasty));
    json_object_set_new(scenario0(next), "name", json_string(nasty));
    doctor(next, "graceful", "peak_tasks", -1, 1.5, NULL);
    char bpath[256], npath[256], md[256], xml[256];
    save(base, "b.json", bpath, sizeof bpath);
    save(next, "n.json", npath, sizeof npath);
    snprintf(md, sizeof md, "%s/cmp.md", tmpdir);
    snprintf(xml, sizeof xml, "%s/junit.xml", tmpdir);
    const lb_command *cmd = lb_command_find("compare");
    char *argv[] = {"compare", "--markdown", md, "--junit", xml, bpath, npath, NULL};
    assert_int_equal(lb_test_call_quietly(cmd->main, 7, argv), LB_EXIT_FAIL);

    char *text = lb_test_slurp(md);
    assert_non_null(strstr(text, "## leakbench compare: regression"));
    assert_non_null(strstr(text, "| graceful | peak\\_tasks | 122 tasks | 183 tasks | 1.500 |"));
    assert_non_null(strstr(text, "**regressed**"));

    int lint = lb_test_xmllint(xml);
    if (lint >= 0) assert_int_equal(lint, 0);
    text = lb_test_slurp(xml);
    assert_non_null(strstr(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_int_equal(count(text, "<testcase "), 56);
    assert_int_equal(count(text, "<failure "), 1);
    assert_non_null(strstr(text, "failures=\"1\""));
    assert_non_null(strstr(text, "pipe&lt;&amp;&quot;&apos;&gt;]]&gt;?|`*"));
    assert_null(strstr(text, nasty));
    assert_non_null(strstr(text, "base: 122 tasks (5 runs)&#10;new: 183 tasks (5 runs)"));
    json_decref(base);
    json_decref(next);
}

/* lb_comparison_print into a string. */
static char *print_comparison(const lb_comparison *c, const lb_compare_view *view)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lb_comparison_print(f, c, "base.json", "new.json", view);
    fclose(f);
    return buf;
}

/* With colour a regression is loud red, the variant in its chart colour
 * and the summary's verdict coloured; without it, not one escape. */
static void terminal_colour(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    doctor(next, "graceful", "peak_tasks", -1, 1.5, NULL);
    lb_comparison c;
    compare_docs(base, next, &c);
    lb_compare_view plain_view = {true, false}, color_view = {true, true};
    char *plain = print_comparison(&c, &plain_view), *painted = print_comparison(&c, &color_view);
    assert_null(strchr(plain, '\033'));
    assert_non_null(strstr(plain, "  REGRESSED  "));
    assert_non_null(strstr(painted, "\033[1;31mREGRESSED\033[0m  "));
    assert_non_null(strstr(painted, "  \033[34mgraceful\033[0m  "));
    assert_non_null(strstr(painted, "  \033[31mleaky   \033[0m  "));
    assert_non_null(strstr(painted, "not gated): \033[1;31mREGRESSION\033[0m\n"));
    free(plain);
    free(painted);
    lb_comparison_free(&c);
    json_decref(base);
    json_decref(next);
}

/* The default view: only the rows that changed, with why, then one line
 * per scenario naming its largest change as hyperfine would (the ratio's
 * spread propagated from both sides: graceful peak_tasks 120..124 in
 * five runs, times 1.5: 1.5 * sqrt(2) * sd/mean = 0.027); --all shows the
 * unchanged rows too. */
static void default_view_is_the_changes_and_a_summary(void **state)
{
    (void)state;
    json_t *base = load(REPS5), *next = load(REPS5);
    doctor(next, "graceful", "peak_tasks", -1, 1.5, NULL);
    lb_comparison c;
    compare_docs(base, next, &c);
    const lb_compare_row *r = row(&c, "graceful", "peak_tasks");
    assert_near(r->ratio_sd, 1.5 * sqrt(2) * 1.5811388 / 122, 1e-6);
    lb_compare_view changed = {false, false}, all = {true, false};
    char *text = print_comparison(&c, &changed);
    assert_non_null(strstr(text,
                           "scenario      variant   metric           base        new  change  "
                           "verdict    why\n"
                           "timeout_leak  graceful  peak_tasks  122 tasks  183 tasks  +50.0%  "
                           "REGRESSED  beyond noise and significant (U test p = 0.00794)\n\n"));
    assert_non_null(strstr(text,
                           "\ntimeout_leak: graceful peak_tasks 1.50 ± 0.03 times higher than "
                           "base (regressed); 1 regressed, 0 improved, 0 inconclusive, "
                           "47 unchanged\n"));
    assert_null(strstr(text, "leaky "));
    free(text);
    /* On an 80-column terminal the row (73 columns) keeps its line and
     * why goes under it, wrapped, figures whole. */
    lb_compare_view narrow = {false, false, 80};
    text = print_comparison(&c, &narrow);
    assert_non_null(strstr(text,
                           "scenario      variant   metric           base        new  change  "
                           "verdict\n"
                           "timeout_leak  graceful  peak_tasks  122 tasks  183 tasks  +50.0%  "
                           "REGRESSED\n"
                           "    beyond noise and significant (U test p = 0.00794)\n\n"));
    free(text);
    /* A terminal wide enough for both keeps why beside the row. */
    lb_compare_view wide = {false, false, 130};
    text = print_comparison(&c, &wide);
    assert_non_null(strstr(text, "REGRESSED  beyond noise and significant (U test p = 0.00794)\n"));
    free(text);
    text = print_comparison(&c, &all);
    assert_non_null(strstr(text, "  leaky     baseline_tasks"));
    assert_non_null(strstr(text, "unchanged  within noise (5%, floor "));
    free(text);
    lb_comparison_free(&c);

    /* Lower is better and it went down: a factor >= 1, "lower", with the
     * same relative spread (2 * 0.0183 = 0.037). */
    doctor(next, "graceful", "peak_tasks", -1, 0.5 / 1.5, NULL);
    compare_docs(base, next, &c);
    text = print_comparison(&c, &changed);
    assert_non_null(strstr(text, "timeout_leak: graceful peak_tasks 2.00 ± 0.04 times lower than "
                                 "base (improved);"));
    free(text);
    lb_comparison_free(&c);

    /* Nothing changed: says so, and how to see the rows. */
    compare_docs(base, base, &c);
    text = print_comparison(&c, &changed);
    assert_non_null(strstr(text, "(every metric unchanged; --all shows them)\n\ntimeout_leak: no "
                                 "gated metric changed beyond noise; 0 regressed"));
    free(text);
    lb_comparison_free(&c);
    json_decref(base);
    json_decref(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identical_runs_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(regression_beyond_noise_with_reps, setup, teardown),
        cmocka_unit_test_setup_teardown(change_within_noise_is_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(improvement_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(without_reps_noise_decides, setup, teardown),
        cmocka_unit_test_setup_teardown(overlapping_samples_are_inconclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(too_few_reps_for_the_test, setup, teardown),
        cmocka_unit_test_setup_teardown(volatile_metrics_are_info, setup, teardown),
        cmocka_unit_test_setup_teardown(nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(summary_that_disagrees_with_its_runs_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(interrupted_side_makes_changes_inconclusive, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(markdown_and_junit, setup, teardown),
        cmocka_unit_test_setup_teardown(terminal_colour, setup, teardown),
        cmocka_unit_test_setup_teardown(default_view_is_the_changes_and_a_summary, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
