/*
 * report_summary_test.c — tests for the verdict a report opens with
 * (report_verdict.c) and the CI job-summary form (report_summary.c,
 * `leakbench report --summary`).
 *
 * Covered: the sparkline (no values, a constant series, a rising one,
 * NaNs, slices keeping their largest value, a fixed scale clamping);
 * the summary of the fixture harness/testdata/results-small.json (status
 * line first, no images, thresholds, one sparkline row per side on a
 * shared scale) and of edited copies (a failed threshold, no thresholds,
 * an interrupted run, an A/A run's A and B labels, a Go target's
 * goroutines); the verdict at the top of report.md and as cards in
 * report.html; an A/A run's A and B labels in report.md and the charts'
 * script, data and templates; and the CLI (`--summary -` on stdout, `--summary FILE`,
 * `--summary` with `-o`, an invalid results file: exit 2 and nothing
 * written).  Run from the repository root (make test does); the CLI
 * tests run $LEAKBENCH (default build/leakbench).
 */
#include "report_internal.h"
#include "cli/cli.h"
#include "core/test_util.h"

#include <math.h>
#include <sys/stat.h>

#define FIXTURE "harness/testdata/results-small.json"

/* True if string S starts with the literal LIT. */
#define starts_with(s, lit) (strncmp((s), (lit), strlen(lit)) == 0)

static char tmp[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmp, sizeof tmp, "summary");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    return lb_test_remove_tree(tmp);
}

static json_t *load_fixture(void)
{
    json_error_t err;
    json_t *doc = json_load_file(FIXTURE, 0, &err);
    if (!doc) fail_msg("cannot load %s: %s (run from the repository root)", FIXTURE, err.text);
    return doc;
}

/* The summary of DOC, as written to a file (a buffer the next call reuses). */
static const char *summary_of(const json_t *doc)
{
    char path[128];
    lb_report_result res;
    snprintf(path, sizeof path, "%s/summary.md", tmp);
    assert_int_equal(lb_report_summary_write(doc, path, &res), 0);
    return lb_test_slurp(path);
}

static const char *spark(const double *v, size_t n, int width, double lo, double hi)
{
    static char buf[256];
    return lb_sparkline(buf, sizeof buf, v, n, width, lo, hi);
}

/* ---------------------------------------------------------- sparkline -- */

static void test_sparkline(void **state)
{
    (void)state;
    const double rising[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const double constant[5] = {42, 42, 42, 42, 42};
    const double gaps[3] = {1, NAN, 3};
    const double all_nan[2] = {NAN, NAN};
    const double spike[16] = {0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};

    assert_string_equal(spark(NULL, 0, 10, NAN, NAN), "");
    assert_string_equal(spark(constant, 5, 10, NAN, NAN), "▁▁▁▁▁");
    assert_string_equal(spark(rising, 8, 10, NAN, NAN), "▁▂▃▄▅▆▇█");
    assert_string_equal(spark(gaps, 3, 10, NAN, NAN), "▁ █");
    assert_string_equal(spark(all_nan, 2, 10, NAN, NAN), "  ");
    /* 16 values in 4 characters: each keeps its slice's largest value, so
     * the one-sample spike is not averaged away. */
    assert_string_equal(spark(spike, 16, 4, NAN, NAN), "▁█▁▃");
    /* A fixed scale: values beyond it are clamped, a small series on a
     * large scale stays low. */
    assert_string_equal(spark(rising, 8, 8, 0, 70), "▁▁▁▁▁▁▁▁");
    assert_string_equal(spark(rising, 8, 8, 2, 4), "▁▁▁▅████");
    /* A buffer too small for the whole line gets whole characters only. */
    char small[8];
    lb_sparkline(small, sizeof small, rising, 8, 8, NAN, NAN);
    assert_string_equal(small, "▁▂");
}

/* ------------------------------------------------------------ summary -- */

static void test_summary_of_fixture(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    const char *md = summary_of(doc);
    /* The status line first. */
    assert_true(starts_with(md, "✅ **PASS** · 1 scenario, 1 of 1 threshold passed\n"));
    assert_non_null(strstr(md, "| timeout\\_leak | pass (1 of 1 threshold passed) | 887 | 17 | "
                               "63.2 MiB | 3.46 MiB | restart required | 41.5 ms |"));
    assert_non_null(strstr(md, "| timeout\\_leak | graceful.peak\\_tasks | &lt;= 150 | 17 tasks | "
                               "pass |"));
    /* No images: nothing that would not resolve in a job summary. */
    assert_null(strstr(md, "!["));
    assert_null(strstr(md, "charts/"));
    /* One row per side, on one scale: the leaky twin climbs to █, the
     * graceful one (17 of 887) stays on ▁. */
    const char *leaky = strstr(md, "| leaky (before fix) | ▁");
    assert_non_null(leaky);
    const char *top = strstr(leaky, "█");
    assert_true(top && top < strchr(leaky, '\n'));
    char graceful[256] = "| graceful (after fix) | ";
    for (int k = 0; k < 44; k++) strcat(graceful, "▁"); /* 44 samples, one character each */
    strcat(graceful, " | 17 | 44 |\n");
    assert_non_null(strstr(md, graceful));
    assert_non_null(strstr(md, "| 887 | 44 |"));
    assert_non_null(strstr(md, "▁ is 0, █ is 887 tasks."));
    json_decref(doc);
}

static void test_summary_states(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    json_t *t = json_array_get(json_object_get(doc, "thresholds"), 0);

    json_object_set_new(t, "verdict", json_string("fail"));
    const char *md = summary_of(doc);
    assert_true(starts_with(md, "❌ **FAIL** · 1 scenario, 1 of 1 threshold failed\n"));
    assert_non_null(strstr(md, "| timeout\\_leak | FAIL (1 of 1 threshold failed) |"));

    json_object_set_new(doc, "thresholds", json_array());
    md = summary_of(doc);
    assert_true(starts_with(md, "**NO THRESHOLDS** · 1 scenario, no thresholds to pass or fail\n"));
    assert_non_null(strstr(md, "| timeout\\_leak | no thresholds |"));
    assert_null(strstr(md, "## Thresholds"));

    json_object_set_new(doc, "status", json_string("interrupted"));
    md = summary_of(doc);
    assert_true(starts_with(md, "**INTERRUPTED** · "));
    assert_non_null(strstr(md, "the run was interrupted and its results are partial"));
    json_decref(doc);
}

static void test_summary_aa_and_goroutines(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    json_object_set_new(doc, "aa", json_pack("{s:s}", "variant", "graceful"));
    json_t *runs = json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs");
    json_t *run;
    size_t i;
    json_array_foreach(runs, i, run)
        json_object_set_new(run, "target", json_pack("{s:{s:s}}", "probe", "kind", "go_pprof"));
    const char *md = summary_of(doc);
    assert_non_null(strstr(md, "| A (graceful) | ▁"));
    assert_non_null(strstr(md, "| B (graceful) | ▁"));
    assert_null(strstr(md, "before fix"));
    assert_non_null(strstr(md, "| Peak tasks (A) | Peak tasks (B) |"));
    assert_non_null(strstr(md, "| 887 goroutines | 17 goroutines |"));
    assert_non_null(strstr(md, "| Side | Live goroutines over the run | Peak | Samples |"));
    json_decref(doc);
}

/* ------------------------------------------------- report.md and .html -- */

static void test_report_opens_with_verdict(void **state)
{
    (void)state;
    lb_report_opts opts = {.charts = false};
    lb_report_result res;
    assert_int_equal(lb_report_render_file(FIXTURE, tmp, &opts, &res), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/report.md", tmp);
    const char *md = lb_test_slurp(path);
    assert_true(starts_with(md, "# leakbench report\n\n✅ **PASS** · 1 scenario, 1 of 1 threshold "
                                "passed\n\n| Scenario | Verdict |"));

    snprintf(path, sizeof path, "%s/report.html", tmp);
    const char *html = lb_test_slurp(path);
    const char *status =
        strstr(html, "<p class=\"status pass\"><strong class=\"badge\">PASS</strong>");
    const char *card = strstr(html, "<section class=\"card pass\">");
    const char *first_h2 = strstr(html, "<h2");
    assert_non_null(status);
    assert_non_null(card);
    assert_true(status < card && card < first_h2); /* the verdict comes first */
    assert_non_null(strstr(card, "<tr><th>Peak tasks</th><td class=\"r\">887</td><td "
                                 "class=\"r\">17</td></tr>"));
    assert_non_null(strstr(card, "<tr><th>Recovery</th><td class=\"r bad\">restart "
                                 "required</td><td class=\"r\">41.5 ms</td></tr>"));
    /* Tables scroll inside their own box. */
    assert_non_null(strstr(html, "<div class=\"scroll\"><table>"));
    assert_non_null(strstr(html, ".scroll{overflow-x:auto"));
}

/* An A/A run's sides are A and B everywhere: report.md, the chart
 * script's titles and the summary chart's data, never "before fix". */
static void test_aa_labels_in_report_and_charts(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    json_object_set_new(doc, "aa", json_pack("{s:s}", "variant", "leaky"));
    json_object_set_new(doc, "thresholds", json_array());
    lb_report_opts opts = {.charts = false}; /* charts.gp and data are still written */
    lb_report_result res;
    assert_int_equal(lb_report_render(doc, tmp, &opts, &res), 0);
    char path[160];
    snprintf(path, sizeof path, "%s/report.md", tmp);
    const char *md = lb_test_slurp(path);
    assert_true(starts_with(md, "# leakbench report\n\n**A/A RUN** · 1 scenario, no thresholds"));
    assert_non_null(
        strstr(md, "An A/A run: the leaky twin of 1 concurrent pipeline on both sides"));
    assert_non_null(strstr(md, "### A and B\n"));
    assert_non_null(strstr(md, "| Metric | A (leaky) | B (leaky) |"));
    assert_null(strstr(md, "before fix"));
    assert_null(strstr(md, "Before fix"));
    snprintf(path, sizeof path, "%s/charts/charts.gp", tmp);
    const char *gp = lb_test_slurp(path);
    assert_non_null(strstr(gp, "leaky_title = 'A (leaky)'"));
    assert_non_null(strstr(gp, "graceful_title = 'B (leaky)'"));
    assert_non_null(strstr(gp, "summary_title = 'A/A run, the same twin on both sides'"));
    snprintf(path, sizeof path, "%s/charts/data/timeout_leak-summary.dat", tmp);
    const char *dat = lb_test_slurp(path);
    assert_non_null(strstr(dat, "0 \"A\\n(leaky)\" 1"));
    assert_non_null(strstr(dat, "1 \"B\\n(leaky)\" 2"));
    static const char *const templates[] = {"tasks", "rss", "states", "latency", "summary"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/charts/plots/%s.gp", tmp, templates[i]);
        const char *t = lb_test_slurp(path);
        assert_non_null(t);
        assert_null(strstr(t, "before fix"));
    }
    json_decref(doc);
}

/* ---------------------------------------------------------------- CLI -- */

/* Runs leakbench with ARGS (NULL-terminated), stdout into OUT_PATH. */
static int run_cli(const char *out_path, const char *const *args)
{
    const char *argv[12] = {lb_test_leakbench()};
    for (int i = 0; args[i] && i < 10; i++) argv[i + 1] = args[i];
    pid_t pid = lb_test_spawn(out_path, true, argv, NULL);
    assert_true(pid > 0);
    return lb_test_wait(pid);
}

static void test_cli_summary(void **state)
{
    (void)state;
    char out[128], file[128], bad[128];
    struct stat st;
    snprintf(out, sizeof out, "%s/stdout", tmp);
    snprintf(file, sizeof file, "%s/step-summary.md", tmp);
    snprintf(bad, sizeof bad, "%s/bad.json", tmp);

    const char *to_stdout[] = {"report", FIXTURE, "--summary", "-", NULL};
    assert_int_equal(run_cli(out, to_stdout), LB_EXIT_OK);
    assert_true(starts_with(lb_test_slurp(out), "✅ **PASS** ·"));

    const char *to_file[] = {"report", FIXTURE, "--summary", file, NULL};
    assert_int_equal(run_cli(out, to_file), LB_EXIT_OK);
    assert_non_null(strstr(lb_test_slurp(file), "## Over the run"));

    const char *with_o[] = {"report", FIXTURE, "--summary", file, "-o", tmp, NULL};
    assert_int_equal(run_cli(out, with_o), LB_EXIT_USAGE);
    assert_non_null(strstr(lb_test_slurp(out), "--summary writes one file; it takes no -o DIR"));

    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("{\"schema\": \"leakbench-results\",", f);
    fclose(f);
    unlink(file);
    const char *invalid[] = {"report", bad, "--summary", file, NULL};
    assert_int_equal(run_cli(out, invalid), LB_EXIT_USAGE);
    assert_non_null(strstr(lb_test_slurp(out), "bad.json:"));
    assert_int_not_equal(stat(file, &st), 0); /* nothing written */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sparkline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_of_fixture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_aa_and_goroutines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_opens_with_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aa_labels_in_report_and_charts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_summary, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
