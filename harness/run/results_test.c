/*
 * results_test.c — the results document (results.h) from synthetic runs:
 * built once, it passes the loader's validation, and once written it reads
 * back from results.json equal to the tree in memory, reals included (so
 * `report RESULTS.json` sees what `run` rendered from); samples.csv comes
 * from the document's samples tables in its long-standing format; the
 * threshold verdicts walk the ASTs the loaded spec keeps; the completed
 * requests' latency histogram is written and read back; and every field
 * the README's results schema shows is written ("error": null was not).
 */
#include "results.h"
#include "results_fixture.h"
#include "results_load.h"
#include "core/jsonutil.h"
#include "core/test_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "results");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

static const char *const spec_text =
    "{\"scenario\": \"timeout_leak\", \"thresholds\": {\"graceful.peak_tasks\": \"<= 40\","
    " \"leaky.peak_tasks\": \"> 2 * graceful.peak_tasks\"}}";

/* One run whose numbers carry more digits than results.json keeps. */
static void fake_run(lb_run_result *run, const lb_scenario_spec *spec, bool leaky)
{
    memset(run, 0, sizeof *run);
    run->spec = spec;
    run->leaky = leaky;
    run->limits = spec->guards;
    for (int p = 0; p < LB_PHASE_COUNT; p++) run->phases.at_s[p] = p / 3.0;
    lb_metrics *m = &run->metrics;
    m->baseline_tasks = 1;
    m->peak_tasks = leaky ? 100 : 30;
    m->final_tasks = leaky ? 90 : 1;
    m->baseline_rss = m->peak_rss = m->final_rss = 1 << 20;
    m->peak_threads = 2;
    m->rss_slope = 1234.56789012345;
    m->trend = "stable";
    m->recovery_ms = leaky ? NAN : 12.3456789012345;
    m->shutdown_ms = 1.0 / 7;
    m->throughput_rps = 99.999999999;
    m->latency = (lb_latency){
        .count = 10, .mean = 0.1, .p50 = 0.1, .p90 = 0.2, .p99 = 0.3, .p999 = 0.4, .max = 0.5};
    /* Completed requests: 3 us, twice 100 us, 2.5 ms (buckets [3, 4), [100, 104)
     * and [2432, 2560) us). */
    static const uint64_t completed_us[] = {3, 100, 100, 2500};
    lb_hist_reset(&m->latency_completed);
    for (size_t i = 0; i < sizeof completed_us / sizeof completed_us[0]; i++)
        lb_hist_record_us(&m->latency_completed, completed_us[i]);
    assert_int_equal(lb_series_init(&run->series, 16), 0);
    for (int i = 0; i < 3; i++) {
        lb_sample s = {.t_s = 0.01 * i + 1e-9 / 3,
                       .phase = LB_PHASE_LOAD,
                       .tasks = 5 + i,
                       .rss_bytes = 4096,
                       .threads = 2,
                       .cpu_s = i / 3.0,
                       .lateness_ms = 0.0125};
        lb_series_add(&run->series, &s);
    }
}

static void build_results(lb_results *r, lb_spec *spec)
{
    lb_test_results_of(r, spec, spec_text, fake_run);
}

static void document_reads_back_equal(void **state)
{
    (void)state;
    lb_results r;
    lb_spec spec;
    build_results(&r, &spec);
    json_t *doc = lb_results_build(&r);
    assert_non_null(doc);
    char err[1024];
    if (lb_results_validate(doc, "built", err, sizeof err)) fail_msg("%s", err);

    /* Thresholds: the spec's ASTs walked against the document. */
    const lb_scenario_spec *s = r.scenarios[0].spec;
    json_t *verdicts = json_array();
    size_t failed = 0;
    assert_int_equal(lb_thresholds_evaluate(s->thresholds, (size_t)s->n_thresholds,
                                            json_array_get(json_object_get(doc, "scenarios"), 0),
                                            verdicts, &failed),
                     0);
    assert_int_equal(failed, 0);
    assert_int_equal(lb_results_set_thresholds(doc, verdicts), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "thresholds")), 2);

    assert_int_equal(lb_results_write(tmpdir, doc, err, sizeof err), 0);
    json_t *back;
    if (lb_results_load(tmpdir, &back, err, sizeof err)) fail_msg("%s", err);
    /* json_equal compares reals exactly: only a document rounded like its
     * file passes. */
    assert_true(json_equal(doc, back));
    json_decref(back);
    json_decref(doc);
    lb_results_free(&r);
    lb_spec_free(&spec);
}

/* metrics.latency_completed_ms: the completed requests' figures and
 * their non-empty buckets [lo_ms, hi_ms, count], ascending, read back
 * from the file as they were written. */
static void completed_latency_histogram_round_trip(void **state)
{
    (void)state;
    lb_results r;
    lb_spec spec;
    build_results(&r, &spec);
    json_t *doc = lb_results_build(&r);
    char err[512];
    assert_int_equal(lb_results_write(tmpdir, doc, err, sizeof err), 0);
    json_t *back;
    if (lb_results_load(tmpdir, &back, err, sizeof err)) fail_msg("%s", err);
    const json_t *run =
        json_array_get(lb_jpath(json_array_get(json_object_get(back, "scenarios"), 0), "runs"), 0);
    const json_t *h = lb_jpath(run, "metrics.latency_completed_ms");
    assert_true(json_is_object(h));
    assert_int_equal(lb_jnum(h, "count"), 4);
    assert_near(lb_jnum(h, "max"), 2.5, 1e-9);
    assert_near(lb_jnum(h, "p50"), 0.1015, 1e-9); /* the midpoint of [100, 104) us, in ms */
    char *buckets =
        json_dumps(json_object_get(h, "buckets"), JSON_COMPACT | JSON_REAL_PRECISION(6));
    assert_string_equal(buckets, "[[0.003,0.004,1],[0.1,0.104,2],[2.432,2.56,1]]");
    free(buckets);
    /* The summary has the completed requests' percentiles. */
    const json_t *summary = lb_jpath(json_array_get(json_object_get(back, "scenarios"), 0),
                                     "summary.leaky.latency_completed_p50_ms");
    assert_near(lb_jnum(summary, "median"), 0.1015, 1e-9);
    /* Every request, timed-out ones included, is still in latency_ms. */
    assert_int_equal(lb_jnum_path(run, "metrics.latency_ms.count"), 10);
    json_decref(back);
    json_decref(doc);
    lb_results_free(&r);
    lb_spec_free(&spec);
}

static void samples_csv_from_the_document(void **state)
{
    (void)state;
    lb_results r;
    lb_spec spec;
    build_results(&r, &spec);
    json_t *doc = lb_results_build(&r);
    char err[512], path[128];
    assert_int_equal(lb_results_write(tmpdir, doc, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/samples.csv", tmpdir);
    const char *csv = lb_test_slurp(path);
    assert_non_null(strstr(csv, "scenario,variant,rep,t_s,phase,tasks,rss_bytes,threads,cpu_s,"
                                "running,send,recv,select,sleep,waitgroup,lock,join,io,submitted,"
                                "completed,timed_out,failed,rejected,cancelled,lateness_ms\n"));
    assert_non_null(strstr(csv, "\ntimeout_leak,leaky,0,0.010000,load,6,4096,2,0.3333,0,0,0,0,0,"
                                "0,0,0,0,0,0,0,0,0,0,0.0125\n"));
    int lines = 0;
    for (const char *c = csv; *c; c++) lines += *c == '\n';
    assert_int_equal(lines, 1 + 2 * 3);
    json_decref(doc);
    lb_results_free(&r);
    lb_spec_free(&spec);
}

/* Every key of the README's example at RPATH is in the document at the
 * same place (recursing where both sides hold objects, or arrays of
 * them); "http" and "target" (HTTP runs and target runs only),
 * "thresholds_evaluated" (interrupted runs only, written by the gate) and
 * "..." (a placeholder) are skipped. */
static void assert_documented_keys(const json_t *readme, const json_t *doc, const char *rpath)
{
    if (json_is_array(readme) && json_is_array(doc)) {
        if (json_array_size(readme) && json_array_size(doc))
            assert_documented_keys(json_array_get(readme, 0), json_array_get(doc, 0), rpath);
        return;
    }
    if (!json_is_object(readme) || !json_is_object(doc)) return;
    const char *key;
    const json_t *want;
    json_object_foreach((json_t *)readme, key, want)
    {
        if (!strcmp(key, "http") || !strcmp(key, "target") ||
            !strcmp(key, "thresholds_evaluated") || !strcmp(key, "..."))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s.%s", rpath, key);
        const json_t *got = json_object_get(doc, key);
        if (!got) fail_msg("the README shows %s, the writer does not write it", path);
        assert_documented_keys(want, got, path);
    }
}

/* The README's results.json example, parsed. */
static json_t *readme_results_example(void)
{
    char *readme = lb_test_slurp("README.md");
    char *start = strstr(readme, "## Results (results.json");
    assert_non_null(start);
    start = strstr(start, "```json\n");
    assert_non_null(start);
    start += 8;
    char *end = strstr(start, "\n```");
    assert_non_null(end);
    json_error_t jerr;
    json_t *shown = json_loadb(start, (size_t)(end - start), 0, &jerr);
    if (!shown) fail_msg("README results example, line %d: %s", jerr.line, jerr.text);
    return shown;
}

static void every_field_the_readme_shows_is_written(void **state)
{
    (void)state;
    json_t *shown = readme_results_example();
    lb_results r;
    lb_spec spec;
    build_results(&r, &spec);
    json_t *doc = lb_results_build(&r);
    assert_non_null(doc);
    json_t *verdicts = json_pack("[{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:i}]", "scenario", "t",
                                 "metric", "graceful.peak_tasks", "expr", "<= 40", "value", 30.0,
                                 "bound", 40.0, "verdict", "pass", "reason", "", "n", 1);
    assert_int_equal(lb_results_set_thresholds(doc, verdicts), 0);
    assert_documented_keys(shown, doc, "$");
    const json_t *run = lb_jpath(json_array_get(json_object_get(doc, "scenarios"), 0), "runs");
    assert_true(json_is_null(json_object_get(json_array_get(run, 0), "error")));
    json_decref(shown);
    json_decref(doc);
    lb_results_free(&r);
    lb_spec_free(&spec);
}

/* An HTTP run's "http" object has every key the README's example shows,
 * with the engine's counts. */
static void http_object_written_as_the_readme_shows(void **state)
{
    (void)state;
    json_t *shown = readme_results_example();
    const json_t *shown_http = lb_jpath(
        json_array_get(
            json_object_get(json_array_get(json_object_get(shown, "scenarios"), 0), "runs"), 0),
        "http");
    assert_non_null(shown_http);
    lb_results r;
    lb_spec spec;
    build_results(&r, &spec);
    lb_run_result *run = &r.scenarios[0].runs[0];
    run->http = (lb_http_run_result){.active = true,
                                     .connections = 64,
                                     .connections_opened = 9,
                                     .deadline_closes = 4,
                                     .waited = 2,
                                     .expired_unsent = 3,
                                     .engine_cpu_s = 0.5,
                                     .engine_cpu_wait_s = 0.25};
    json_t *doc = lb_results_build(&r);
    const json_t *http = lb_jpath(
        json_array_get(
            json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs"), 0),
        "http");
    assert_non_null(http);
    const char *key;
    const json_t *want;
    json_object_foreach((json_t *)shown_http, key, want)
    {
        if (!json_object_get(http, key))
            fail_msg("the README shows http.%s, the writer does not write it", key);
    }
    assert_int_equal(lb_jnum(http, "timed_out_unsent"), 3);
    assert_int_equal(lb_jnum(http, "deadline_closes"), 4);
    assert_near(lb_jnum(http, "engine_cpu_wait_s"), 0.25, 1e-9);
    json_decref(shown);
    json_decref(doc);
    lb_results_free(&r);
    lb_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(document_reads_back_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(completed_latency_histogram_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(samples_csv_from_the_document, setup, teardown),
        cmocka_unit_test_setup_teardown(every_field_the_readme_shows_is_written, setup, teardown),
        cmocka_unit_test_setup_teardown(http_object_written_as_the_readme_shows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
