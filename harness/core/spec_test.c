/*
 * spec_test.c — scenario and suite file validation: every kind of error
 * is reported with its exact position (syntax) or JSON path (semantics),
 * valid files get their defaults, suites merge defaults into entries,
 * includes resolve relative to the suite, overrides are checked, and the
 * spec as run loads back to the same values.
 *
 * A test-only scenario with knobs is registered here so knob validation
 * (unknown knob, range, integrality) can be exercised.
 */
#include "spec.h"
#include "test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------ a scenario with knobs -- */

static void *knob_setup(const lb_env *env)
{
    (void)env;
    return NULL;
}
static lb_outcome knob_handle(void *state, lb_request *req)
{
    (void)state;
    (void)req;
    return LB_COMPLETED;
}
static void knob_shutdown(void *state)
{
    (void)state;
}
static const lb_knob test_knobs[] = {
    {"width", "fan-out width", 4, 1, 64, true},
    {"share", "a fraction", 0.5, 0, 1, false},
};
static const lb_scenario spec_test_knobs = {
    .name = "spec_test_knobs",
    .pattern = 99,
    .title = "test scenario with knobs",
    .trigger = "-",
    .source = "-",
    .description = "-",
    .fix = "-",
    .knobs = test_knobs,
    .n_knobs = 2,
    .leaky = {knob_setup, knob_handle, knob_shutdown},
    .graceful = {knob_setup, knob_handle, knob_shutdown},
};
LB_SCENARIO(spec_test_knobs)

/* ------------------------------------------------------------ helpers -- */

/* Loads text and expects failure with exactly message `want`. */
static void expect_error(const char *text, const char *want)
{
    lb_spec spec;
    lb_spec_error err;
    int rc = lb_spec_load_string("t.json", text, &spec, &err);
    if (rc != -EINVAL || strcmp(err.text, want) != 0) {
        print_error("rc %d\n got:  %s\n want: %s\n", rc, err.text, want);
        fail();
    }
}

/* Expects failure with a message starting with `prefix`. */
static void expect_error_prefix(const char *text, const char *prefix)
{
    lb_spec spec;
    lb_spec_error err;
    int rc = lb_spec_load_string("t.json", text, &spec, &err);
    if (rc != -EINVAL || strncmp(err.text, prefix, strlen(prefix)) != 0) {
        print_error("rc %d\n got:    %s\n prefix: %s\n", rc, err.text, prefix);
        fail();
    }
}

static void load_ok(const char *text, lb_spec *spec)
{
    lb_spec_error err;
    int rc = lb_spec_load_string("t.json", text, spec, &err);
    if (rc != 0) {
        print_error("unexpected error: %s\n", err.text);
        fail();
    }
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup_dir(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "spec");
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

/* ------------------------------------------------------------- syntax -- */

static void syntax_error_has_line_and_column(void **state)
{
    (void)state;
    expect_error("{\n  \"scenario\": \"timeout_leak\",\n  \"timeout_ms\": 5,,\n}\n",
                 "t.json:3:19: string or '}' expected near ','");
}

static void duplicate_key_is_a_syntax_error(void **state)
{
    (void)state;
    expect_error("{\"scenario\": \"timeout_leak\",\n \"seed\": 1,\n \"seed\": 2}\n",
                 "t.json:3:7: duplicate object key near '\"seed\"'");
}

static void missing_file_is_reported(void **state)
{
    (void)state;
    lb_spec spec;
    lb_spec_error err;
    assert_int_equal(lb_spec_load("/nonexistent/x.json", &spec, &err), -ENOENT);
    assert_string_equal(err.text, "/nonexistent/x.json: cannot read: No such file or directory");
}

/* ---------------------------------------------------------- semantics -- */

static void top_level_must_be_an_object(void **state)
{
    (void)state;
    expect_error("[1, 2]", "t.json: $: expected an object, got an array");
}

static void unknown_key_names_its_path(void **state)
{
    (void)state;
    expect_error_prefix("{\"scenario\": \"timeout_leak\", \"timeot_ms\": 5}",
                        "t.json: $.timeot_ms: unknown key (expected one of: scenario, ");
    expect_error_prefix("{\"scenario\": \"timeout_leak\", \"load\": {\"rat\": 5}}",
                        "t.json: $.load.rat: unknown key (expected one of: model, rate,");
    expect_error_prefix(
        "{\"scenario\": \"timeout_leak\", \"load\": {\"stages\": [{\"duration_ms\": 1, "
        "\"rate\": 2}, {\"duration_ms\": 1, \"rate\": 2, \"x\": 1}]}}",
        "t.json: $.load.stages[1].x: unknown key");
    expect_error_prefix("{\"scenario\": \"timeout_leak\", \"guards\": {\"memory\": 5}}",
                        "t.json: $.guards.memory: unknown key");
    /* A key close to a known one is suggested, after the list. */
    static const char *const close[][2] = {
        {"{\"scenario\": \"timeout_leak\", \"timeot_ms\": 5}", "; did you mean 'timeout_ms'?)"},
        {"{\"scenario\": \"timeout_leak\", \"load\": {\"rat\": 5}}", "; did you mean 'rate'?)"},
        {"{\"scenario\": \"timeout_leak\", \"guards\": {\"memory\": 5}}", NULL},
    };
    for (size_t i = 0; i < sizeof close / sizeof close[0]; i++) {
        lb_spec spec;
        lb_spec_error err;
        assert_int_equal(lb_spec_load_string("t.json", close[i][0], &spec, &err), -EINVAL);
        const char *hint = strstr(err.text, "; did you mean");
        if (close[i][1])
            assert_true(hint && !strcmp(hint, close[i][1]));
        else
            assert_null(hint);
    }
}

static void wrong_type_names_its_path(void **state)
{
    (void)state;
    expect_error("{\"scenario\": \"timeout_leak\", \"timeout_ms\": \"50\"}",
                 "t.json: $.timeout_ms: expected a number, got a string");
    expect_error("{\"scenario\": \"timeout_leak\", \"pool_size\": 2.5}",
                 "t.json: $.pool_size: expected an integer, got 2.5");
    expect_error("{\"scenario\": 7}", "t.json: $.scenario: expected a string, got an integer");
    expect_error("{\"scenario\": \"timeout_leak\", \"load\": []}",
                 "t.json: $.load: expected an object, got an array");
    expect_error("{\"scenario\": \"timeout_leak\", \"guards\": {\"memory_bytes\": \"lots\"}}",
                 "t.json: $.guards.memory_bytes: expected a number of bytes or \"auto\", got "
                 "\"lots\"");
    expect_error("{\"scenario\": \"timeout_leak\", \"thresholds\": {\"graceful.peak_tasks\": 5}}",
                 "t.json: $.thresholds[\"graceful.peak_tasks\"]: expected a string, got an "
                 "integer");
}

static void out_of_range_names_its_path(void **state)
{
    (void)state;
    expect_error("{\"scenario\": \"timeout_leak\", \"error_rate\": 1.5}",
                 "t.json: $.error_rate: 1.5 is out of range [0, 1]");
    expect_error("{\"scenario\": \"timeout_leak\", \"timeout_ms\": 0}",
                 "t.json: $.timeout_ms: 0 is out of range (0, 8.64e+07]");
    expect_error("{\"scenario\": \"timeout_leak\", \"load\": {\"rate\": -3}}",
                 "t.json: $.load.rate: -3 is out of range (0, 1e+06]");
    expect_error("{\"scenario\": \"timeout_leak\", \"sample_ms\": 0.5}",
                 "t.json: $.sample_ms: 0.5 is out of range [1, 60000]");
    expect_error("{\"scenario\": \"timeout_leak\", \"pool_size\": 0}",
                 "t.json: $.pool_size: 0 is out of range [1, 10000]");
}

static void unknown_names_are_rejected(void **state)
{
    (void)state;
    expect_error("{\"scenario\": \"no_such\"}",
                 "t.json: $.scenario: unknown scenario 'no_such' (`leakbench list` shows them)");
    expect_error("{\"scenario\": \"timeout_leek\"}",
                 "t.json: $.scenario: unknown scenario 'timeout_leek' (did you mean "
                 "'timeout_leak'? `leakbench list` shows them)");
    expect_error("{}", "t.json: $.scenario: missing (the name of a scenario pair, see "
                       "`leakbench list`)");
    expect_error("{\"scenario\": \"timeout_leak\", \"scheduler\": \"fibers\"}",
                 "t.json: $.scheduler: unknown scheduler 'fibers' (expected threads or "
                 "coroutines)");
    expect_error("{\"scenario\": \"timeout_leak\", \"load\": {\"model\": \"burst\"}}",
                 "t.json: $.load.model: unknown load model 'burst' (expected constant, "
                 "poisson or closed)");
    expect_error("{\"scenario\": \"timeout_leak\", \"service_time\": {\"dist\": \"pareto\"}}",
                 "t.json: $.service_time.dist: unknown distribution 'pareto' (expected fixed, "
                 "uniform, exponential or lognormal)");
}

static void cross_field_rules(void **state)
{
    (void)state;
    expect_error("{\"scenario\": \"timeout_leak\", \"load\": {\"model\": \"closed\", \"rate\": 5}}",
                 "t.json: $.load.rate: not allowed with the closed model (use load.clients)");
    expect_error("{\"scenario\": \"timeout_leak\", \"load\": {\"clients\": 5}}",
                 "t.json: $.load.clients: only allowed with the closed model");
    expect_error("{\"scenario\": \"timeout_leak\", \"load\": {\"duration_ms\": 5, \"stages\": "
                 "[{\"duration_ms\": 1, \"rate\": 1}]}}",
                 "t.json: $.load.duration_ms: not allowed with stages (the load lasts as long "
                 "as its stages)");
    expect_error("{\"scenario\": \"timeout_leak\", \"service_time\": {\"dist\": \"uniform\", "
                 "\"min_ms\": 10, \"max_ms\": 5}}",
                 "t.json: $.service_time.max_ms: 5 is below min_ms (10)");
    expect_error_prefix("{\"scenario\": \"timeout_leak\", \"service_time\": {\"dist\": "
                        "\"fixed\", \"mean_ms\": 5}}",
                        "t.json: $.service_time.mean_ms: unknown key (expected one of: dist, ms)");
    expect_error("{\"scenario\": \"timeout_leak\", \"service_time\": {\"dist\": "
                 "\"exponential\"}}",
                 "t.json: $.service_time.mean_ms: required and above 0 for the exponential "
                 "distribution");
    expect_error_prefix("{\"scenario\": \"timeout_leak\", \"guards\": {\"tasks\": 90000000}}",
                        "t.json: $.guards.tasks: 90000000 is above 90% of the kernel's pid_max");
}

static void knobs_are_checked_against_the_scenario(void **state)
{
    (void)state;
    expect_error("{\"scenario\": \"timeout_leak\", \"knobs\": {\"width\": 3}}",
                 "t.json: $.knobs.width: scenario 'timeout_leak' has no knob 'width' (its "
                 "knobs: none)");
    expect_error("{\"scenario\": \"spec_test_knobs\", \"knobs\": {\"depth\": 3}}",
                 "t.json: $.knobs.depth: scenario 'spec_test_knobs' has no knob 'depth' (its "
                 "knobs: width, share)");
    expect_error("{\"scenario\": \"spec_test_knobs\", \"knobs\": {\"widht\": 3}}",
                 "t.json: $.knobs.widht: scenario 'spec_test_knobs' has no knob 'widht' (did you "
                 "mean 'width'? its knobs: width, share)");
    expect_error("{\"scenario\": \"spec_test_knobs\", \"knobs\": {\"width\": 2.5}}",
                 "t.json: $.knobs.width: expected an integer, got 2.5");
    expect_error("{\"scenario\": \"spec_test_knobs\", \"knobs\": {\"width\": 65}}",
                 "t.json: $.knobs.width: 65 is out of range [1, 64]");
    lb_spec spec;
    load_ok("{\"scenario\": \"spec_test_knobs\", \"knobs\": {\"share\": 0.25}}", &spec);
    assert_near(spec.items[0].knob[0], 4, 0); /* default */
    assert_near(spec.items[0].knob[1], 0.25, 0);
    lb_spec_free(&spec);
}

/* -------------------------------------------------------- valid files -- */

static void defaults_are_filled_in(void **state)
{
    (void)state;
    lb_spec spec;
    load_ok("{\"scenario\": \"timeout_leak\"}", &spec);
    assert_int_equal(spec.n, 1);
    const lb_scenario_spec *s = &spec.items[0];
    assert_string_equal(s->name, "timeout_leak");
    assert_int_equal(s->model, LB_LOAD_CONSTANT);
    assert_near(s->rate, 100, 0);
    assert_near(s->duration_ms, 5000, 0);
    assert_near(s->timeout_ms, 100, 0);
    assert_int_equal(s->payload_bytes, 65536);
    assert_near(s->sample_ms, 10, 0);
    assert_true(s->guards.memory_auto);
    assert_int_equal(s->scheduler, RT_SCHED_THREADS);
    assert_int_equal(s->repetitions, 1);
    lb_guards g;
    lb_guards_resolve(s, 1000, &g);
    assert_int_equal(g.memory_bytes, 500);
    assert_int_equal(g.tasks, LB_TASKS_DEFAULT_THREADS);
    assert_near(g.wall_ms, 5000 + 2000 + 500 + 30000, 0);
    lb_spec_free(&spec);
}

static void stages_set_the_duration(void **state)
{
    (void)state;
    lb_spec spec;
    load_ok("{\"scenario\": \"timeout_leak\", \"load\": {\"model\": \"poisson\", \"rate\": 10, "
            "\"stages\": [{\"duration_ms\": 1000, \"rate\": 50}, {\"duration_ms\": 500, "
            "\"rate\": 0}]}, \"thresholds\": {\"graceful.peak_tasks\": \"<= 150\"}}",
            &spec);
    const lb_scenario_spec *s = &spec.items[0];
    assert_int_equal(s->n_stages, 2);
    assert_near(s->duration_ms, 1500, 0);
    assert_int_equal(s->n_thresholds, 1);
    assert_string_equal(s->thresholds[0].key, "graceful.peak_tasks");
    assert_string_equal(s->thresholds[0].expr, "<= 150");
    lb_spec_free(&spec);
}

static void spec_as_run_loads_back(void **state)
{
    (void)state;
    lb_spec spec, again;
    load_ok("{\"scenario\": \"timeout_leak\", \"load\": {\"model\": \"closed\", \"clients\": 7, "
            "\"think_ms\": 3}, \"service_time\": {\"dist\": \"lognormal\", \"median_ms\": 20, "
            "\"sigma\": 0.5, \"max_ms\": 200}, \"guards\": {\"memory_bytes\": 2000000000}}",
            &spec);
    json_t *j = lb_scenario_spec_to_json(&spec.items[0]);
    char *text = json_dumps(j, 0);
    json_decref(j);
    load_ok(text, &again);
    free(text);
    const lb_scenario_spec *a = &spec.items[0], *b = &again.items[0];
    assert_int_equal(b->model, LB_LOAD_CLOSED);
    assert_int_equal(b->clients, 7);
    assert_near(b->think_ms, 3, 0);
    assert_int_equal(b->service.kind, LB_DIST_LOGNORMAL);
    assert_near(b->service.median_ms, a->service.median_ms, 0);
    assert_near(b->service.sigma, 0.5, 0);
    assert_near(b->service.max_ms, 200, 0);
    assert_false(b->guards.memory_auto);
    assert_int_equal(b->guards.memory_bytes, 2000000000);
    lb_spec_free(&spec);
    lb_spec_free(&again);
}

static void overrides_are_applied_and_checked(void **state)
{
    (void)state;
    lb_spec spec;
    lb_spec_error err;
    load_ok("{\"scenario\": \"timeout_leak\"}", &spec);
    lb_spec_overrides o = LB_SPEC_NO_OVERRIDES;
    o.rate = 42;
    o.duration_ms = 1500;
    o.repetitions = 3;
    assert_int_equal(lb_spec_apply_overrides(&spec, &o, &err), 0);
    assert_near(spec.items[0].rate, 42, 0);
    assert_near(spec.items[0].duration_ms, 1500, 0);
    assert_int_equal(spec.items[0].repetitions, 3);
    lb_spec_free(&spec);

    load_ok("{\"scenario\": \"timeout_leak\", \"load\": {\"model\": \"closed\"}}", &spec);
    o = LB_SPEC_NO_OVERRIDES;
    o.rate = 42;
    assert_int_equal(lb_spec_apply_overrides(&spec, &o, &err), -EINVAL);
    assert_non_null(strstr(err.text, "--rate: timeout_leak (t.json $) has a closed load"));
    lb_spec_free(&spec);
}

/* -------------------------------------------------------------- suites -- */

/* "description" is kept (the README says reports show it): the suite's,
 * each entry's (its own over the defaults'), and in the spec as run. */
static void descriptions_are_kept(void **state)
{
    (void)state;
    lb_spec spec;
    load_ok("{\"suite\": \"s\", \"description\": \"the nightly suite\", \"defaults\": "
            "{\"scenario\": \"timeout_leak\", \"description\": \"by default\"}, "
            "\"scenarios\": [{\"seed\": 1}, {\"name\": \"b\", \"description\": \"its own\"}]}",
            &spec);
    assert_string_equal(spec.description, "the nightly suite");
    assert_string_equal(spec.items[0].description, "by default");
    assert_string_equal(spec.items[1].description, "its own");
    json_t *j = lb_scenario_spec_to_json(&spec.items[1]);
    assert_string_equal(json_string_value(json_object_get(j, "description")), "its own");
    json_decref(j);
    lb_spec_free(&spec);
    load_ok("{\"scenario\": \"timeout_leak\"}", &spec);
    assert_string_equal(spec.items[0].description, "");
    j = lb_scenario_spec_to_json(&spec.items[0]);
    assert_null(json_object_get(j, "description"));
    json_decref(j);
    lb_spec_free(&spec);

    char *text = malloc(LB_SPEC_DESCRIPTION_MAX + 64);
    assert_non_null(text);
    int n = snprintf(text, 64, "{\"scenario\": \"timeout_leak\", \"description\": \"");
    memset(text + n, 'x', LB_SPEC_DESCRIPTION_MAX);
    snprintf(text + n + LB_SPEC_DESCRIPTION_MAX, 8, "\"}");
    expect_error(text, "t.json: $.description: 4096 bytes long, more than the 4095 a description "
                       "may have");
    free(text);
}

static void suite_merges_defaults(void **state)
{
    (void)state;
    lb_spec spec;
    load_ok("{\"suite\": \"s\", \"defaults\": {\"scenario\": \"timeout_leak\", \"timeout_ms\": "
            "40, \"guards\": {\"tasks\": 300}, \"service_time\": {\"dist\": \"fixed\", \"ms\": "
            "5}}, \"scenarios\": [{\"seed\": 7}, {\"name\": \"tl-uniform\", \"service_time\": "
            "{\"dist\": \"uniform\", "
            "\"min_ms\": 1, \"max_ms\": 2}, \"guards\": {\"wall_ms\": 9000}}]}",
            &spec);
    assert_string_equal(spec.suite, "s");
    assert_int_equal(spec.n, 2);
    assert_near(spec.items[0].timeout_ms, 40, 0);
    assert_int_equal(spec.items[0].seed, 7);
    assert_string_equal(spec.items[0].path, "$.scenarios[0]");
    /* service_time replaces the default whole; guards merge key by key */
    assert_int_equal(spec.items[1].service.kind, LB_DIST_UNIFORM);
    assert_int_equal(spec.items[1].guards.tasks, 300);
    assert_near(spec.items[1].guards.wall_ms, 9000, 0);
    lb_spec_free(&spec);
}

static void suite_errors_point_into_defaults_or_entries(void **state)
{
    (void)state;
    expect_error("{\"defaults\": {\"settle_ms\": -1}, \"scenarios\": [{\"scenario\": "
                 "\"timeout_leak\"}]}",
                 "t.json: $.defaults.settle_ms: -1 is out of range [0, 8.64e+07]");
    expect_error("{\"defaults\": {\"scenario\": \"timeout_leak\"}, \"scenarios\": [{}, "
                 "{\"load\": {\"rate\": \"fast\"}}]}",
                 "t.json: $.scenarios[1].load.rate: expected a number, got a string");
    expect_error("{\"scenarios\": [{}]}", "t.json: $.scenarios[0].scenario: missing (the name "
                                          "of a scenario pair, see `leakbench list`)");
    expect_error("{\"scenarios\": []}", "t.json: $.scenarios: empty (nothing to run)");
    expect_error("{\"scenarios\": [5]}", "t.json: $.scenarios[0]: expected an object or the "
                                         "path of a scenario file, got an integer");
    expect_error_prefix("{\"suite\": \"x\", \"scenarios\": [{\"scenario\": \"timeout_leak\"}], "
                        "\"extra\": 1}",
                        "t.json: $.extra: unknown key (expected one of: suite, description, "
                        "defaults, scenarios)");
}

static void suite_includes_scenario_files(void **state)
{
    (void)state;
    write_file("one.json", "{\"scenario\": \"timeout_leak\", \"seed\": 11}");
    write_file("bad.json", "{\"scenario\": \"timeout_leak\",\n \"seed\": -4}");
    write_file("suite.json",
               "{\"defaults\": {\"timeout_ms\": 33}, \"scenarios\": "
               "[\"one.json\", {\"scenario\": \"timeout_leak\", \"name\": \"two\"}]}");
    write_file("badsuite.json", "{\"scenarios\": [\"one.json\", \"bad.json\"]}");
    write_file("nosuch.json", "{\"scenarios\": [\"absent.json\"]}");
    char path[256], want[512];
    lb_spec spec;
    lb_spec_error err;
    snprintf(path, sizeof path, "%s/suite.json", tmpdir);
    assert_int_equal(lb_spec_load(path, &spec, &err), 0);
    assert_int_equal(spec.n, 2);
    assert_int_equal(spec.items[0].seed, 11);
    assert_near(spec.items[0].timeout_ms, 33, 0);
    lb_spec_free(&spec);

    snprintf(path, sizeof path, "%s/badsuite.json", tmpdir);
    assert_int_equal(lb_spec_load(path, &spec, &err), -EINVAL);
    snprintf(want, sizeof want, "%s/bad.json: $.seed: -4 is out of range [0, 9223372036854775807]",
             tmpdir);
    assert_string_equal(err.text, want);

    snprintf(path, sizeof path, "%s/nosuch.json", tmpdir);
    assert_int_equal(lb_spec_load(path, &spec, &err), -EINVAL);
    snprintf(want, sizeof want,
             "%s/nosuch.json: $.scenarios[0]: cannot include: %s/absent.json: cannot read: No "
             "such file or directory",
             tmpdir, tmpdir);
    assert_string_equal(err.text, want);

    /* An absolute path that is not JSON: where, never what it holds. */
    write_file("secret.txt", "root:x:0:0:token-1234\n");
    char suite[512];
    snprintf(suite, sizeof suite, "{\"scenarios\": [\"%s/secret.txt\"]}", tmpdir);
    write_file("abs.json", suite);
    snprintf(path, sizeof path, "%s/abs.json", tmpdir);
    assert_int_equal(lb_spec_load(path, &spec, &err), -EINVAL);
    snprintf(want, sizeof want,
             "%s/abs.json: $.scenarios[0]: cannot include: %s/secret.txt:1:4: not a JSON document",
             tmpdir, tmpdir);
    assert_string_equal(err.text, want);
    assert_null(strstr(err.text, "root"));
    /* The user's own file keeps jansson's reason. */
    snprintf(path, sizeof path, "%s/secret.txt", tmpdir);
    assert_int_equal(lb_spec_load(path, &spec, &err), -EINVAL);
    assert_non_null(strstr(err.text, "expected near 'root'"));
    /* An included file that starts like JSON keeps the reason too. */
    write_file("typo.json", "{\"scenario\": \"timeout_leak\",}");
    write_file("inc.json", "{\"scenarios\": [\"typo.json\"]}");
    snprintf(path, sizeof path, "%s/inc.json", tmpdir);
    assert_int_equal(lb_spec_load(path, &spec, &err), -EINVAL);
    assert_non_null(strstr(err.text, "typo.json:1:"));
    assert_null(strstr(err.text, "not a JSON document"));
}

/* validate checks the spec's own consistency: a pool the task guard would
 * kill, and control bytes from the file are escaped in the message. */
static void pool_above_task_guard_and_control_bytes(void **state)
{
    (void)state;
    expect_error_prefix("{\"scenario\": \"timeout_leak\", \"pool_size\": 500, \"guards\": "
                        "{\"tasks\": 400}}",
                        "t.json: $.pool_size: 500 is not below guards.tasks (400)");
    expect_error_prefix("{\"scenario\": \"time\\u001b[31mout\"}",
                        "t.json: $.scenario: unknown scenario 'time\\x1b[31mout'");
}

/* The same scenario twice in one suite is refused at load (validate),
 * not later by compare, which matches scenarios by name. */
static void duplicate_scenario_in_a_suite_is_refused(void **state)
{
    (void)state;
    lb_spec spec;
    lb_spec_error err;
    int rc = lb_spec_load_string("dup.json",
                                 "{\"scenarios\": [{\"scenario\": \"timeout_leak\"},"
                                 " {\"scenario\": \"early_return\"},"
                                 " {\"scenario\": \"timeout_leak\"}]}",
                                 &spec, &err);
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err.text, "dup.json: $.scenarios[2]: the name \"timeout_leak\" is already "
                                  "used at $.scenarios[0] (results and compare match scenarios by "
                                  "name: give each a \"name\")");
    /* Named, the same pair may run under several loads. */
    assert_int_equal(lb_spec_load_string("named.json",
                                         "{\"scenarios\": [{\"scenario\": \"timeout_leak\"},"
                                         " {\"scenario\": \"timeout_leak\", \"name\": \"tl-5k\"}]}",
                                         &spec, &err),
                     0);
    assert_string_equal(spec.items[1].name, "tl-5k");
    lb_spec_free(&spec);
    assert_int_equal(lb_spec_load_string("bad.json",
                                         "{\"scenario\": \"timeout_leak\", \"name\": \"a b\"}",
                                         &spec, &err),
                     -EINVAL);
    assert_non_null(strstr(err.text, "bad.json: $.name: expected 1 to "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duplicate_scenario_in_a_suite_is_refused),
        cmocka_unit_test(pool_above_task_guard_and_control_bytes),
        cmocka_unit_test_setup(syntax_error_has_line_and_column, lb_test_arm_timeout),
        cmocka_unit_test_setup(duplicate_key_is_a_syntax_error, lb_test_arm_timeout),
        cmocka_unit_test_setup(missing_file_is_reported, lb_test_arm_timeout),
        cmocka_unit_test_setup(top_level_must_be_an_object, lb_test_arm_timeout),
        cmocka_unit_test_setup(unknown_key_names_its_path, lb_test_arm_timeout),
        cmocka_unit_test_setup(wrong_type_names_its_path, lb_test_arm_timeout),
        cmocka_unit_test_setup(out_of_range_names_its_path, lb_test_arm_timeout),
        cmocka_unit_test_setup(unknown_names_are_rejected, lb_test_arm_timeout),
        cmocka_unit_test_setup(cross_field_rules, lb_test_arm_timeout),
        cmocka_unit_test_setup(knobs_are_checked_against_the_scenario, lb_test_arm_timeout),
        cmocka_unit_test_setup(defaults_are_filled_in, lb_test_arm_timeout),
        cmocka_unit_test_setup(stages_set_the_duration, lb_test_arm_timeout),
        cmocka_unit_test_setup(spec_as_run_loads_back, lb_test_arm_timeout),
        cmocka_unit_test_setup(overrides_are_applied_and_checked, lb_test_arm_timeout),
        cmocka_unit_test_setup(suite_merges_defaults, lb_test_arm_timeout),
        cmocka_unit_test_setup(descriptions_are_kept, lb_test_arm_timeout),
        cmocka_unit_test_setup(suite_errors_point_into_defaults_or_entries, lb_test_arm_timeout),
        cmocka_unit_test_setup_teardown(suite_includes_scenario_files, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
