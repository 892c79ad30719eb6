/*
 * results_target_test.c — results schema version 3 for a target pair:
 * runs that carry lb_target_run_json's "target" object build into a
 * document the loader accepts, that reads back from results.json equal
 * to the tree in memory; the scenario has no catalogue pattern; the spec
 * as run in it loads back as the same target spec; version 2 documents
 * still load and other versions are refused with the versions read.
 */
#include "results.h"
#include "results_fixture.h"
#include "results_load.h"
#include "target_run.h"
#include "core/jsonutil.h"
#include "core/test_util.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char tmpdir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "results-target");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

static const char *const spec_text =
    "{\"name\": \"seed\", \"target\": {\"probe\": {\"kind\": \"go_pprof\"},"
    " \"ready\": {\"http\": \"/healthz\"},"
    " \"leaky\": {\"command\": [\"bin/seed\", \"-mode\", \"leaky\"], \"env\": {\"A\": \"1\"}},"
    " \"graceful\": {\"command\": [\"bin/seed\", \"-mode\", \"graceful\"]}},"
    " \"thresholds\": {\"leaky.leaked_tasks\": \"> 10\"}}";

/* A run as target_runner.c fills one, its "target" object made by the
 * real lb_target_run_json from a config and result like a run's. */
static void fake_target_run(lb_run_result *run, const lb_scenario_spec *spec, bool leaky)
{
    memset(run, 0, sizeof *run);
    run->spec = spec;
    run->leaky = leaky;
    run->limits = spec->guards;
    run->status = LB_RUN_COMPLETED;
    for (int p = 0; p < LB_PHASE_COUNT; p++) run->phases.at_s[p] = p / 3.0;
    lb_metrics *m = &run->metrics;
    m->baseline_tasks = 6;
    m->peak_tasks = leaky ? 640 : 550;
    m->final_tasks = leaky ? 590 : 506;
    m->leaked_tasks = leaky ? 584 : 0;
    m->baseline_rss = m->peak_rss = m->final_rss = 13 << 20;
    m->peak_threads = 8;
    m->rss_slope = m->task_slope = NAN;
    m->recovered = !leaky;
    m->recovery_ms = leaky ? NAN : 22.1;
    m->shutdown_ms = 5.07;
    m->cpu_user_s = m->cpu_sys_s = NAN;
    m->latency = (lb_latency){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    assert_int_equal(lb_series_init(&run->series, 16), 0);
    lb_sample s = {.t_s = 0.5, .phase = LB_PHASE_LOAD, .tasks = 40, .rss_bytes = 4096};
    lb_series_add(&run->series, &s);

    const lb_target_variant_spec *v = leaky ? &spec->target.leaky : &spec->target.graceful;
    const char *argv[LB_TARGET_MAX_ARGS + 1];
    lb_target_variant_argv(v, argv);
    lb_target_run_config c = {.target = {.argv = argv, .port = v->port},
                              .ready = v->ready,
                              .ready_path = v->ready_path,
                              .probe = {.kind = v->probe},
                              .probe_ms = v->probe_interval_ms,
                              .shutdown_signal = v->shutdown_signal,
                              .shutdown_grace_ms = v->shutdown_grace_ms};
    lb_target_run_result r;
    memset(&r, 0, sizeof r);
    r.end = LB_TARGET_END_COMPLETE;
    r.guard = LB_GUARD_CGROUP_V1;
    r.port = 40000 + leaky;
    r.ready_ms = 230.5;
    r.baseline_tasks = 6;
    r.probe = (lb_probe_stats){52, 0, 1.66, 17.6, 0.36, 10.5, ""};
    r.shutdown = (lb_target_shutdown){LB_SHUTDOWN_EXITED, 5.07, true, 0, 0};
    run->target = lb_target_run_json(&c, &r);
    assert_non_null(run->target);
}

static json_t *build_doc(lb_results *r, lb_spec *spec)
{
    lb_test_results_of(r, spec, spec_text, fake_target_run);
    json_t *doc = lb_results_build(r);
    assert_non_null(doc);
    return doc;
}

static void version_3_reads_back_equal(void **state)
{
    (void)state;
    lb_results r;
    lb_spec spec;
    json_t *doc = build_doc(&r, &spec);
    char err[1024];
    if (lb_results_validate(doc, "built", err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), 3);
    assert_int_equal(lb_results_write(tmpdir, doc, err, sizeof err), 0);
    json_t *back;
    if (lb_results_load(tmpdir, &back, err, sizeof err)) fail_msg("%s", err);
    assert_true(json_equal(doc, back));

    const json_t *sc = json_array_get(json_object_get(back, "scenarios"), 0);
    assert_true(json_is_null(json_object_get(sc, "pattern")));
    assert_true(json_is_null(json_object_get(sc, "scheduler")));
    const json_t *leaky = lb_scenario_run(sc, "leaky"), *graceful = lb_scenario_run(sc, "graceful");
    assert_string_equal(lb_jstr_path(leaky, "target.end"), "complete");
    assert_string_equal(lb_jstr_path(leaky, "target.probe.kind"), "go_pprof");
    assert_string_equal(lb_jstr_path(leaky, "target.shutdown.outcome"), "exited");
    assert_string_equal(lb_jstr_path(leaky, "target.guard.mechanism"), "cgroup v1");
    assert_near(lb_jnum_path(leaky, "target.port"), 40001, 0);
    const json_t *argv = lb_jpath(graceful, "target.argv");
    assert_int_equal(json_array_size(argv), 3);
    assert_string_equal(json_string_value(json_array_get(argv, 2)), "graceful");
    json_decref(back);
    json_decref(doc);
    lb_results_free(&r);
    lb_spec_free(&spec);
}

/* The spec as run, in results.json, is a spec the loader reads back as
 * the same target pair (what `compare` and a rerun see). */
static void spec_as_run_is_a_target_spec(void **state)
{
    (void)state;
    lb_results r;
    lb_spec spec;
    json_t *doc = build_doc(&r, &spec);
    json_t *as_run = json_deep_copy(lb_jpath(doc, "spec.scenarios"));
    json_t *one = json_array_get(as_run, 0);
    json_object_del(one, "file");
    char *text = json_dumps(one, 0);
    lb_spec again = lb_test_load_spec("as-run.json", text);
    const lb_target_spec *a = &spec.items[0].target, *b = &again.items[0].target;
    assert_true(b->active);
    assert_int_equal(b->leaky.argc, a->leaky.argc);
    assert_string_equal(b->leaky.text + b->leaky.env_at[0], "A=1");
    assert_int_equal(b->graceful.probe, LB_PROBE_GO_PPROF);
    assert_string_equal(b->graceful.ready_path, "/healthz");
    free(text);
    json_decref(as_run);
    lb_spec_free(&again);
    json_decref(doc);
    lb_results_free(&r);
    lb_spec_free(&spec);
}

static void other_versions(void **state)
{
    (void)state;
    lb_results r;
    lb_spec spec;
    json_t *doc = build_doc(&r, &spec);
    char err[1024];
    /* a version 2 document: no target objects */
    json_object_set_new(doc, "schema_version", json_integer(2));
    const json_t *runs = lb_jpath(json_array_get(json_object_get(doc, "scenarios"), 0), "runs");
    for (size_t i = 0; i < json_array_size(runs); i++)
        json_object_del(json_array_get(runs, i), "target");
    if (lb_results_validate(doc, "v2", err, sizeof err)) fail_msg("%s", err);
    json_object_set_new(doc, "schema_version", json_integer(4));
    assert_int_equal(lb_results_validate(doc, "v4", err, sizeof err), -EINVAL);
    assert_string_equal(err, "v4: schema_version: version 4 is not supported (this leakbench "
                             "reads versions 2 and 3)");
    json_decref(doc);
    lb_results_free(&r);
    lb_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(version_3_reads_back_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(spec_as_run_is_a_target_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(other_versions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
