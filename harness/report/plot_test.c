/*
 * plot_test.c — charts for runs with few samples.
 *
 * A run stopped early (a guard kill in its first second) has only a
 * handful of samples; the README calls that a result, so it must still
 * get its charts.  The fixture harness/testdata/results-small.json is cut
 * to 3 samples per variant (then to 1, which is no time series but still
 * a summary and latency chart) and rendered with the real gnuplot; the
 * short series are drawn with a marker per sample.  The summary's
 * factors and "never" bar, and the RSS chart's linear axis and guard
 * marker, and the latency chart's percentile curve, timeout line and
 * split, are checked in the script and data handed to gnuplot.  Needs
 * gnuplot (gnuplot-nox); skipped with a message without it.
 */
#include "gnuplot.h"
#include "report_internal.h"
#include "core/test_util.h"

#include <string.h>
#include <sys/stat.h>

#define FIXTURE "harness/testdata/results-small.json"

static char tmpdir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "plot");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

/* The fixture with every run's samples cut to the first N rows. */
static json_t *fixture_with_samples(size_t n)
{
    json_t *doc = json_load_file(FIXTURE, 0, NULL);
    assert_non_null(doc);
    json_t *runs = json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs");
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run)
    {
        json_t *rows = json_object_get(json_object_get(run, "samples"), "rows");
        while (json_array_size(rows) > n) json_array_remove(rows, json_array_size(rows) - 1);
    }
    return doc;
}

static bool chart_exists(const char *out, const json_t *doc, lb_chart_kind kind)
{
    char base[160], path[512];
    struct stat st;
    lb_chart_base(base, sizeof base, doc, 0, kind);
    snprintf(path, sizeof path, "%s/charts/%s.png", out, base);
    return stat(path, &st) == 0 && st.st_size > 0;
}

static void render(size_t samples, int want_charts)
{
    if (!lb_on_path("gnuplot")) {
        print_message("skip reason: gnuplot is not installed (apt-get install gnuplot-nox)\n");
        skip();
    }
    char results[128], out[128];
    snprintf(results, sizeof results, "%s/results-%zu.json", tmpdir, samples);
    snprintf(out, sizeof out, "%s/out-%zu", tmpdir, samples);
    json_t *doc = fixture_with_samples(samples);
    assert_int_equal(json_dump_file(doc, results, JSON_COMPACT), 0);
    lb_report_opts opts = {.charts = true};
    lb_report_result res;
    int rc = lb_report_render_file(results, out, &opts, &res);
    if (rc) fail_msg("render failed: %s", res.message);
    assert_int_equal(res.charts, LB_CHARTS_RENDERED);
    assert_int_equal(res.n_charts, want_charts);
    assert_true(chart_exists(out, doc, LB_CHART_SUMMARY));
    assert_true(chart_exists(out, doc, LB_CHART_LATENCY));
    bool series = samples >= 2;
    assert_int_equal(chart_exists(out, doc, LB_CHART_TASKS), series);
    assert_int_equal(chart_exists(out, doc, LB_CHART_RSS), series);
    if (series) {
        char path[256];
        snprintf(path, sizeof path, "%s/charts/charts.gp", out);
        assert_non_null(strstr(lb_test_slurp(path), "few_points = 1"));
    }
    json_decref(doc);
}

static void three_samples_per_variant(void **state)
{
    (void)state;
    render(3, 5);
}

static void one_sample_per_variant(void **state)
{
    (void)state;
    render(1, 2); /* no time series: summary and latency */
}

/* Renders doc into DIR/NAME; returns charts/charts.gp's text (a
 * lb_test_slurp buffer), or NULL after skip() without gnuplot. */
static const char *render_doc(json_t *doc, const char *name)
{
    if (!lb_on_path("gnuplot")) {
        print_message("skip reason: gnuplot is not installed (apt-get install gnuplot-nox)\n");
        skip();
    }
    char results[128], out[128], path[256];
    snprintf(results, sizeof results, "%s/%s.json", tmpdir, name);
    snprintf(out, sizeof out, "%s/%s", tmpdir, name);
    assert_int_equal(json_dump_file(doc, results, JSON_COMPACT), 0);
    lb_report_opts opts = {.charts = true};
    lb_report_result res;
    if (lb_report_render_file(results, out, &opts, &res))
        fail_msg("render failed: %s", res.message);
    assert_int_equal(res.charts, LB_CHARTS_RENDERED);
    assert_true(chart_exists(out, doc, LB_CHART_SUMMARY));
    snprintf(path, sizeof path, "%s/charts/charts.gp", out);
    return lb_test_slurp(path);
}

/* The summary: linear bars, each panel titled with the factor between the
 * twins, and a leaky twin that never recovered drawn as a full-height
 * hatched bar (results-single: 5,012 vs 120 tasks, 315 vs 143 MiB, never
 * vs 40 ms) — unless its load generator fell behind: then n/a. */
static void summary_never_bar_and_factors(void **state)
{
    (void)state;
    json_t *doc = json_load_file("harness/testdata/results-single.json", 0, NULL);
    assert_non_null(doc);
    const char *gp = render_doc(doc, "single");
    assert_non_null(strstr(gp, "sum_note_tasks = '41.8× fewer after the fix'\n"));
    assert_non_null(strstr(gp, "sum_note_rss = '2.2× less memory after the fix'\n"));
    assert_non_null(strstr(gp, "sum_note_rec = 'only the fixed twin recovers'\n"));
    /* The panel's top: 15% above the graceful bar; the never bar reaches it. */
    assert_non_null(strstr(gp, "sum_rec_never = 1\nsum_rec_top = 46\n"));
    assert_null(strstr(gp, "sum_tasks_log"));
    char path[256];
    snprintf(path, sizeof path, "%s/single/charts/data/timeout_leak-summary.dat", tmpdir);
    const char *dat = lb_test_slurp(path);
    assert_non_null(strstr(dat, " NaN 23 \"never:\\nrestart\\nrequired\" 46\n"));
    assert_non_null(strstr(dat, " 40 40 \"40 ms\" NaN\n"));
    /* A leaky twin whose load generator fell behind is n/a, as in the
     * table and the verdict cards: no "never" bar, the reason instead. */
    json_t *leaky = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs"), 0);
    json_object_set_new(leaky, "load", json_pack("{s:b}", "behind", 1));
    gp = render_doc(doc, "behind");
    assert_non_null(strstr(gp, "sum_note_rec = ''\nsum_rec_never = 0\n"));
    snprintf(path, sizeof path, "%s/behind/charts/data/timeout_leak-summary.dat", tmpdir);
    dat = lb_test_slurp(path);
    assert_non_null(strstr(dat, " NaN 20 \"n/a:\\nthe load generator\\nfell behind\" NaN\n"));
    json_decref(doc);
}

/* The latency chart: each variant's completed requests as a percentile
 * curve (steps at 1/(1-p): p = 0, 25 and 75 % for 1, 2 and 1 requests in
 * three buckets, ending at 1 - 1/4), the client timeout as a line, the
 * completed / timed-out split in the key; a variant with none completed
 * gets no curve, only its key entry; a file written before the histogram
 * existed (the plain fixture) gets a chart that says what it lacks. */
static void latency_curve_of_completed_requests(void **state)
{
    (void)state;
    json_t *doc = fixture_with_samples(3);
    json_t *scenario = json_array_get(json_object_get(doc, "scenarios"), 0);
    const char *gp = render_doc(doc, "old");
    assert_non_null(strstr(gp, "lat_leaky = 0\nlat_graceful = 0\nlat_xmax = 10\n"));
    assert_non_null(strstr(gp, "lat_missing = 1\n"));
    char old_out[128];
    snprintf(old_out, sizeof old_out, "%s/old", tmpdir);
    assert_true(chart_exists(old_out, doc, LB_CHART_LATENCY));
    assert_non_null(strstr(gp, "lat_leaky_key = 'leaky (before fix): completed 70 % · timed out "
                               "30 % (no completed-only latency)'\n"));

    json_object_set_new(scenario, "spec", json_pack("{s:f}", "timeout_ms", 50.0));
    json_t *leaky = json_array_get(json_object_get(scenario, "runs"), 0);
    json_t *graceful = json_array_get(json_object_get(scenario, "runs"), 1);
    json_object_set_new(json_object_get(leaky, "metrics"), "latency_completed_ms",
                        json_pack("{s:i, s:f, s:[[f,f,i],[f,f,i],[f,f,i]]}", "count", 4, "max", 2.5,
                                  "buckets", 0.003, 0.004, 1, 0.1, 0.104, 2, 2.432, 2.56, 1));
    json_object_set_new(leaky, "accounting",
                        json_pack("{s:i, s:i, s:i, s:i}", "submitted", 10, "completed", 4,
                                  "timed_out", 5, "failed", 1));
    json_object_set_new(json_object_get(graceful, "metrics"), "latency_completed_ms",
                        json_pack("{s:i, s:[]}", "count", 0, "buckets"));
    json_object_set_new(
        graceful, "accounting",
        json_pack("{s:i, s:i, s:i}", "submitted", 5, "completed", 0, "timed_out", 5));
    gp = render_doc(doc, "new");
    assert_non_null(strstr(gp, "lat_leaky = 1\nlat_graceful = 0\nlat_xmax = 10\n"));
    assert_non_null(strstr(gp, "lat_timeout = 50\nlat_timeout_text = 'client timeout 50 ms'\n"));
    assert_non_null(strstr(gp, "lat_missing = 0\n"));
    assert_non_null(strstr(gp, "lat_leaky_key = 'leaky (before fix): completed 40 % · timed out "
                               "50 % · other 10 %'\n"));
    assert_non_null(strstr(gp, "lat_graceful_key = 'graceful (after fix): completed 0 % · timed "
                               "out 100 % (none completed)'\n"));
    char path[256];
    snprintf(path, sizeof path, "%s/new/charts/data/timeout_leak-latency-leaky.dat", tmpdir);
    const char *dat = lb_test_slurp(path);
    const char *rows = strstr(dat, "\n0 ");
    assert_non_null(rows);
    assert_string_equal(rows, "\n0 1 0.003\n25 1.33333 0.1015\n75 4 2.4955\n75 4 2.4955\n");
    char out[128];
    snprintf(out, sizeof out, "%s/new", tmpdir);
    assert_true(chart_exists(out, doc, LB_CHART_LATENCY));
    /* A share that would round to 0 % without being 0 is "<1 %". */
    lb_latency_curve c = {.submitted = 1200, .completed = 496, .timed_out = 698, .other = 6};
    char split[96];
    assert_string_equal(lb_latency_split_text(split, sizeof split, &c),
                        "completed 41 % · timed out 58 % · other <1 %");
    c = (lb_latency_curve){.submitted = 1000, .completed = 995, .timed_out = 5};
    assert_string_equal(lb_latency_split_text(split, sizeof split, &c),
                        "completed >99 % · timed out <1 %");
    snprintf(path, sizeof path, "%s/new/charts/data/timeout_leak-latency-graceful.dat", tmpdir);
    dat = lb_test_slurp(path);
    assert_null(strstr(dat, "\n0 ")); /* the header only: no rows */
    json_decref(doc);
}

/* RSS is on a linear axis even when the twins differ a thousandfold (on a
 * log axis a linear leak looks as if it levelled off), and a memory guard
 * far above the data is marked at the edge (mode 2) instead of stretching
 * the axis; one within three times the data is drawn as a line (mode 1). */
static void rss_axis_is_linear_with_the_guard_at_the_edge(void **state)
{
    (void)state;
    json_t *doc = fixture_with_samples(44);
    json_t *leaky = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs"), 0);
    json_t *rows = json_object_get(json_object_get(leaky, "samples"), "rows");
    double most = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        double rss = json_number_value(json_array_get(row, 3)) * 1000;
        json_array_set_new(row, 3, json_real(rss));
        if (rss > most) most = rss;
    }
    json_object_set_new(leaky, "guard_limits", json_pack("{s:f}", "memory_bytes", most * 1000));
    const char *gp = render_doc(doc, "far");
    assert_non_null(strstr(gp, "rss_log = 0\n"));
    assert_non_null(strstr(gp, "mem_guard_mode = 2\n"));
    json_object_set_new(leaky, "guard_limits", json_pack("{s:f}", "memory_bytes", most * 2));
    gp = render_doc(doc, "near");
    assert_non_null(strstr(gp, "rss_log = 0\n"));
    assert_non_null(strstr(gp, "mem_guard_mode = 1\n"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(three_samples_per_variant, setup, teardown),
        cmocka_unit_test_setup_teardown(one_sample_per_variant, setup, teardown),
        cmocka_unit_test_setup_teardown(summary_never_bar_and_factors, setup, teardown),
        cmocka_unit_test_setup_teardown(latency_curve_of_completed_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(rss_axis_is_linear_with_the_guard_at_the_edge, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
