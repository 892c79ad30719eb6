/*
 * threshold_test.c — threshold grammar and evaluation: every operator in
 * both outcomes, arithmetic and references, null values, and spec errors
 * reported with file, JSON path and character position.  Evaluates
 * against the hand-written fixture harness/testdata/results-single.json
 * (graceful: peak_tasks 120, leaked 0, recovery 40 ms, peak RSS 150 MB;
 * leaky: peak_tasks 5012, leaked 5000, never recovered, peak RSS 330 MB).
 * A loaded spec keeps each threshold as its parsed AST, and evaluation
 * walks that AST without reading the expression string again.  A verdict
 * prints as `metric value op bound` with units.
 */
#include "spec.h"
#include "threshold.h"
#include "test_util.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define FIXTURE "harness/testdata/results-single.json"

static json_t *load_fixture(void)
{
    json_error_t jerr;
    json_t *doc = json_load_file(FIXTURE, 0, &jerr);
    if (!doc) print_error("%s:%d:%d: %s\n", FIXTURE, jerr.line, jerr.column, jerr.text);
    assert_non_null(doc);
    return doc;
}

static const json_t *first_scenario(const json_t *doc)
{
    return json_array_get(json_object_get(doc, "scenarios"), 0);
}

/* Evaluates one threshold against the fixture; returns its verdict entry
 * (a new reference). */
static json_t *eval_one(const json_t *doc, const char *key, const char *expr)
{
    lb_threshold t;
    lb_threshold_error err;
    int rc = lb_threshold_parse(key, expr, &t, &err);
    if (rc) print_error("%s: %s: char %zu: %s\n", key, expr, err.pos, err.msg);
    assert_int_equal(rc, 0);

    json_t *out = json_array();
    size_t failed = 0;
    assert_int_equal(lb_thresholds_evaluate(&t, 1, first_scenario(doc), out, &failed), 0);
    lb_threshold_free(&t);
    assert_int_equal(json_array_size(out), 1);
    json_t *entry = json_incref(json_array_get(out, 0));
    json_decref(out);
    const char *verdict = json_string_value(json_object_get(entry, "verdict"));
    assert_int_equal(failed, !strcmp(verdict, "fail"));
    return entry;
}

static bool passes(const json_t *doc, const char *key, const char *expr)
{
    json_t *e = eval_one(doc, key, expr);
    bool pass = !strcmp(json_string_value(json_object_get(e, "verdict")), "pass");
    json_decref(e);
    return pass;
}

static void every_operator(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    const char *k = "graceful.peak_tasks"; /* 120 */
    assert_true(passes(doc, k, "< 121"));
    assert_false(passes(doc, k, "< 120"));
    assert_true(passes(doc, k, "<= 120"));
    assert_false(passes(doc, k, "<= 119.5"));
    assert_true(passes(doc, k, "> 119"));
    assert_false(passes(doc, k, "> 120"));
    assert_true(passes(doc, k, ">= 120"));
    assert_false(passes(doc, k, ">= 120.01"));
    assert_true(passes(doc, k, "== 120"));
    assert_false(passes(doc, k, "== 121"));
    assert_true(passes(doc, k, "!= 0"));
    assert_false(passes(doc, k, "!= 120"));
    assert_true(passes(doc, "graceful.leaked_tasks", "== 0"));
    assert_true(passes(doc, "leaky.peak_tasks", ">= 1000"));
    json_decref(doc);
}

static void arithmetic_and_references(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    /* graceful 150000000 B vs leaky 330000000 B: ratio 0.4545 */
    assert_true(passes(doc, "graceful.peak_rss_mib", "< 0.5 * leaky.peak_rss_mib"));
    assert_false(passes(doc, "graceful.peak_rss_mib", "< 0.2 * leaky.peak_rss_mib"));
    assert_true(passes(doc, "graceful.peak_tasks", "== (leaky.peak_tasks - 4892) / 1"));
    assert_true(passes(doc, "graceful.peak_tasks", "== 2 * 3 + 4 * (10 + 19) - -(-2)"));
    assert_true(passes(doc, "graceful.peak_tasks", "<= 1.2e2"));
    assert_true(passes(doc, "graceful.peak_rss_mib", "> 143 + 0.05"));
    json_t *e = eval_one(doc, "graceful.peak_rss_mib", "< 0.2 * leaky.peak_rss_mib");
    assert_near(json_number_value(json_object_get(e, "value")), 150000000.0 / 1048576.0, 1e-9);
    assert_near(json_number_value(json_object_get(e, "bound")), 0.2 * 330000000.0 / 1048576.0,
                1e-9);
    assert_non_null(strstr(json_string_value(json_object_get(e, "reason")), "not <"));
    json_decref(e);
    /* A bound that is not finite fails and says so. */
    e = eval_one(doc, "graceful.peak_tasks", "< 1 / graceful.leaked_tasks");
    assert_string_equal(json_string_value(json_object_get(e, "verdict")), "fail");
    assert_non_null(strstr(json_string_value(json_object_get(e, "reason")), "not a finite"));
    assert_true(json_is_null(json_object_get(e, "bound")));
    json_decref(e);
    json_decref(doc);
}

static void derived_booleans_and_nulls(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    assert_true(passes(doc, "graceful.recovered", "== 1"));
    assert_true(passes(doc, "leaky.recovered", "== 0"));
    assert_true(passes(doc, "leaky.rss_rising", "== 1"));
    assert_true(passes(doc, "graceful.guard_fired", "== 0"));
    assert_true(passes(doc, "graceful.recovery_ms", "< 100"));
    assert_true(passes(doc, "leaky.timed_out", "== leaky.leaked_tasks"));
    /* leaky never recovered: recovery_ms is null, so the threshold fails
     * with that said, whatever the bound. */
    json_t *e = eval_one(doc, "leaky.recovery_ms", "< 1e9");
    assert_string_equal(json_string_value(json_object_get(e, "verdict")), "fail");
    assert_true(json_is_null(json_object_get(e, "value")));
    assert_non_null(strstr(json_string_value(json_object_get(e, "reason")), "is null"));
    json_decref(e);
    e = eval_one(doc, "graceful.recovery_ms", "< leaky.recovery_ms");
    assert_string_equal(json_string_value(json_object_get(e, "verdict")), "fail");
    assert_non_null(strstr(json_string_value(json_object_get(e, "reason")), "leaky.recovery_ms"));
    json_decref(e);
    json_decref(doc);
}

/* Parses key/expr expecting an error at pos in the key or expression
 * whose message contains needle. */
static void expect_error(const char *key, const char *expr, bool in_key, size_t pos,
                         const char *needle)
{
    lb_threshold t;
    lb_threshold_error err;
    int rc = lb_threshold_parse(key, expr, &t, &err);
    if (rc != -EINVAL || err.in_key != in_key || err.pos != pos || !strstr(err.msg, needle))
        print_error("'%s': '%s' -> rc %d, in_key %d, pos %zu, msg '%s'\n", key, expr, rc,
                    err.in_key, err.pos, err.msg);
    assert_int_equal(rc, -EINVAL);
    assert_int_equal(err.in_key, in_key);
    assert_int_equal(err.pos, pos);
    assert_non_null(strstr(err.msg, needle));
}

static void syntax_errors_with_positions(void **state)
{
    (void)state;
    expect_error("graceful.peak_taks", "<= 150", true, 10, "did you mean 'peak_tasks'");
    expect_error("gracefull.peak_tasks", "<= 150", true, 1, "unknown variant 'gracefull'");
    expect_error("graceful", "<= 150", true, 9, "expected '.'");
    expect_error("graceful.peak tasks", "<= 150", true, 14, "unexpected ' '");
    expect_error("graceful.peak_tasks", "<= 15x0", false, 6, "unexpected 'x' in a number");
    expect_error("graceful.peak_tasks", "=< 150", false, 1, "expected a comparison");
    expect_error("graceful.peak_tasks", "= 0", false, 1, "equality is '=='");
    expect_error("graceful.peak_tasks", "<== 0", false, 3, "unexpected '='");
    expect_error("graceful.peak_tasks", "150", false, 1, "expected a comparison");
    expect_error("graceful.peak_tasks", "<=", false, 3, "found end of expression");
    expect_error("graceful.peak_tasks", "< (1 + 2", false, 9, "expected ')'");
    expect_error("graceful.peak_tasks", "< 1 2", false, 5, "expected an operator");
    expect_error("graceful.peak_tasks", "< 1.", false, 5, "digit after '.'");
    expect_error("graceful.peak_tasks", "< 1e", false, 5, "exponent");
    expect_error("graceful.peak_tasks", "< 1 +", false, 6, "found end of expression");
    expect_error("graceful.peak_rss_mib", "< 0.2 * leaky.peak_rss", false, 15,
                 "unknown metric 'peak_rss'");
    expect_error("graceful.peak_rss_mib", "< 0.2 * lekay.peak_rss_mib", false, 9,
                 "unknown variant 'lekay'");
    expect_error("graceful.peak_rss_mib", "< 0.2 * leaky", false, 14, "expected '.'");
    expect_error("graceful.peak_tasks", "< 100 ms", false, 7, "expected an operator");
    /* Names an older leakbench used fail, naming the new one. */
    expect_error("graceful.peak_rss_mb", "< 100", true, 10,
                 "peak_rss_mb was renamed peak_rss_mib (MiB)");
    expect_error("graceful.peak_rss_mib", "< 0.5 * leaky.rss_slope_mb_per_s", false, 15,
                 "rss_slope_mb_per_s was renamed rss_slope_mib_per_s (MiB/s)");

    char msg[300];
    assert_int_equal(lb_threshold_check("graceful.peak_tasks", "<= 15x0", NULL, msg, sizeof msg),
                     -EINVAL);
    assert_string_equal(msg, "expression \"<= 15x0\", character 6: unexpected 'x' in a number");
    assert_int_equal(lb_threshold_check("graceful.peak_tasks", "<= 150", NULL, msg, sizeof msg), 0);

    /* The grammar: a number starts with a digit. */
    expect_error("graceful.peak_tasks", "<= .5", false, 4,
                 "a number starts with a digit (write 0.5)");
    /* A long expression is quoted around the error only: the reason fits. */
    char longexpr[400];
    snprintf(longexpr, sizeof longexpr, "<= 1 + %0300d + x", 0);
    assert_int_equal(lb_threshold_check("graceful.peak_tasks", longexpr, NULL, msg, sizeof msg),
                     -EINVAL);
    assert_non_null(strstr(msg, "...\", character 257: expression longer than 256 characters"));
}

static void spec_errors_name_file_and_path(void **state)
{
    (void)state;
    char err[512];
    json_t *spec = json_loads("{\"thresholds\": {\"graceful.leaked_tasks\": \"== 0\","
                              " \"graceful.peak_taks\": \"<= 150\"}}",
                              0, NULL);
    assert_int_equal(lb_thresholds_check_spec(spec, "quick.json", err, sizeof err), -EINVAL);
    assert_string_equal(err, "quick.json: $.thresholds[\"graceful.peak_taks\"]: key "
                             "\"graceful.peak_taks\", character 10: unknown metric 'peak_taks' "
                             "(did you mean 'peak_tasks'?)");
    json_decref(spec);

    spec = json_loads("{\"scenarios\": [{\"name\": \"a\"}, {\"name\": \"b\", \"thresholds\":"
                      " {\"leaky.peak_tasks\": \">= 1OOO\"}}]}",
                      0, NULL);
    assert_int_equal(lb_thresholds_check_spec(spec, "s.json", err, sizeof err), -EINVAL);
    assert_string_equal(err, "s.json: $.scenarios[1].thresholds[\"leaky.peak_tasks\"]: expression "
                             "\">= 1OOO\", character 5: unexpected 'O' in a number");
    json_decref(spec);

    spec = json_loads("{\"thresholds\": {\"graceful.leaked_tasks\": 0}}", 0, NULL);
    assert_int_equal(lb_thresholds_check_spec(spec, "q.json", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "q.json: $.thresholds[\"graceful.leaked_tasks\"]: expected a "
                                "string"));
    json_decref(spec);

    spec = json_loads("{\"thresholds\": [\"graceful.leaked_tasks == 0\"]}", 0, NULL);
    assert_int_equal(lb_thresholds_check_spec(spec, "q.json", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "q.json: $.thresholds: expected an object"));
    json_decref(spec);

    spec = json_loads("{\"thresholds\": {\"graceful.leaked_tasks\": \"== 0\"}, \"scenarios\":"
                      " [{\"name\": \"b\", \"thresholds\": {\"leaky.peak_tasks\": \">= 1000\"}}]}",
                      0, NULL);
    assert_int_equal(lb_thresholds_check_spec(spec, "q.json", err, sizeof err), 0);
    json_decref(spec);
}

/* The whole document: thresholds from results "spec", verdicts into
 * results "thresholds". */
static void apply_to_results(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    char err[512];
    size_t failed = 99;
    assert_int_equal(lb_thresholds_apply(doc, &failed, err, sizeof err), 0);
    assert_int_equal(failed, 0);
    json_t *list = json_object_get(doc, "thresholds");
    assert_int_equal(json_array_size(list), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *e = json_array_get(list, i);
        assert_string_equal(json_string_value(json_object_get(e, "scenario")), "timeout_leak");
        assert_string_equal(json_string_value(json_object_get(e, "verdict")), "pass");
        assert_true(json_is_number(json_object_get(e, "value")));
    }
    /* Doctor the graceful twin into leaking: two thresholds fail. */
    json_t *summary = json_object_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "summary"),
            "graceful"),
        "leaked_tasks");
    json_object_set_new(summary, "median", json_integer(7));
    summary = json_object_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "summary"),
            "graceful"),
        "peak_tasks");
    json_object_set_new(summary, "median", json_integer(151));
    assert_int_equal(lb_thresholds_apply(doc, &failed, err, sizeof err), 0);
    assert_int_equal(failed, 2);
    assert_int_equal(json_array_size(json_object_get(doc, "thresholds")), 5);
    json_decref(doc);

    /* The layout `leakbench run` writes: each scenario's spec as run. */
    doc = load_fixture();
    json_object_del(json_object_get(doc, "spec"), "thresholds");
    json_object_set_new(json_array_get(json_object_get(doc, "scenarios"), 0), "spec",
                        json_pack("{s:s, s:{s:s, s:s}}", "scenario", "timeout_leak", "thresholds",
                                  "graceful.leaked_tasks", "== 0", "leaky.leaked_tasks", "< 10"));
    assert_int_equal(lb_thresholds_apply(doc, &failed, err, sizeof err), 0);
    assert_int_equal(failed, 1);
    assert_int_equal(json_array_size(json_object_get(doc, "thresholds")), 2);
    json_object_set_new(json_object_get(json_object_get(first_scenario(doc), "spec"), "thresholds"),
                        "leaky.peak_taks", json_string("> 1"));
    assert_int_equal(lb_thresholds_apply(doc, &failed, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "scenarios/quick.json: $.scenarios[0].spec.thresholds["
                                "\"leaky.peak_taks\"]: key"));
    json_decref(doc);
}

/* A verdict as `metric value op bound`, with the metric's unit. */
static void expect_text(const char *metric, const char *expr, double value, double bound,
                        const char *verdict, const char *reason, const char *want)
{
    json_t *t = json_pack("{s:s, s:s, s:s, s:s, s:s}", "scenario", "timeout_leak", "metric", metric,
                          "expr", expr, "verdict", verdict, "reason", reason);
    json_object_set_new(t, "value", isnan(value) ? json_null() : json_real(value));
    json_object_set_new(t, "bound", isnan(bound) ? json_null() : json_real(bound));
    char buf[400];
    assert_ptr_equal(lb_threshold_verdict_text(t, buf, sizeof buf), buf);
    assert_string_equal(buf, want);
    json_decref(t);
}

static void verdicts_print_with_units(void **state)
{
    (void)state;
    expect_text("graceful.recovery_ms", "< 100", 52.25, 100, "pass", "",
                "graceful.recovery_ms 52.3 ms < 100 ms");
    expect_text("graceful.recovery_ms", "<100", 152, 100, "fail", "x",
                "graceful.recovery_ms 152 ms, not < 100 ms");
    /* The bound an expression gives, with the expression. */
    expect_text("graceful.peak_rss_mib", " < 0.5 * leaky.peak_rss_mib ", 3.90625, 37.0625, "pass",
                "", "graceful.peak_rss_mib 3.91 MiB < 37.1 MiB (0.5 * leaky.peak_rss_mib)");
    expect_text("graceful.peak_rss_bytes", "<= 5e6", 4972544, 5e6, "pass", "",
                "graceful.peak_rss_bytes 4.74 MiB <= 4.77 MiB");
    expect_text("leaky.leaked_tasks", ">0", 694, 0, "pass", "",
                "leaky.leaked_tasks 694 tasks > 0 tasks");
    expect_text("graceful.recovered", "== 1", 1, 1, "pass", "", "graceful.recovered 1 == 1");
    /* Three digits would show both as 100 ms: the exact numbers follow. */
    expect_text("graceful.recovery_ms", "< 100", 99.96, 100, "pass", "",
                "graceful.recovery_ms 100 ms < 100 ms (exactly 99.96 < 100)");
    /* No value or no bound: the rule and why. */
    expect_text("leaky.recovery_ms", "< 100", NAN, 100, "fail",
                "leaky.recovery_ms is null (not measured: time back to baseline)",
                "leaky.recovery_ms < 100: leaky.recovery_ms is null (not measured: time back to "
                "baseline)");
    expect_text("graceful.peak_tasks", "< leaky.peak_tasks / 0", 30, NAN, "fail",
                "bound < leaky.peak_tasks / 0 is not a finite number (division by zero?)",
                "graceful.peak_tasks < leaky.peak_tasks / 0: bound < leaky.peak_tasks / 0 is not a "
                "finite number (division by zero?)");
}

/* Parsed once, at spec load: the spec holds the AST (variant, metric,
 * operator, bound), and evaluation works from it alone — the expression
 * strings are overwritten with text that does not parse, and the verdicts
 * still come out right (the text is only copied into them). */
static void spec_keeps_the_parsed_ast(void **state)
{
    (void)state;
    lb_spec spec;
    lb_spec_error err;
    assert_int_equal(lb_spec_load_string("t.json",
                                         "{\"scenario\": \"timeout_leak\", \"thresholds\": "
                                         "{\"graceful.peak_tasks\": \"<= 0.1 * leaky.peak_tasks\","
                                         " \"leaky.leaked_tasks\": \"== 0\"}}",
                                         &spec, &err),
                     0);
    lb_scenario_spec *s = &spec.items[0];
    assert_int_equal(s->n_thresholds, 2);
    assert_string_equal(s->thresholds[0].variant, "graceful");
    assert_string_equal(s->thresholds[0].metric->name, "peak_tasks");
    assert_int_equal(s->thresholds[0].op, LB_OP_LE);
    assert_non_null(s->thresholds[0].bound);
    for (int i = 0; i < s->n_thresholds; i++) {
        free(s->thresholds[i].expr);
        s->thresholds[i].expr = strdup("(( not an expression");
    }
    json_t *doc = load_fixture();
    json_t *out = json_array();
    size_t failed = 0;
    assert_int_equal(lb_thresholds_evaluate(s->thresholds, (size_t)s->n_thresholds,
                                            first_scenario(doc), out, &failed),
                     0);
    /* graceful 120 <= 0.1 * 5012 passes; leaky leaked 5000 == 0 fails. */
    assert_int_equal(failed, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "verdict")),
                        "pass");
    assert_near(json_number_value(json_object_get(json_array_get(out, 0), "bound")), 501.2, 1e-9);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 1), "verdict")),
                        "fail");
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "expr")),
                        "(( not an expression");
    json_decref(out);
    json_decref(doc);
    lb_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(every_operator, lb_test_arm_timeout),
        cmocka_unit_test_setup(arithmetic_and_references, lb_test_arm_timeout),
        cmocka_unit_test_setup(derived_booleans_and_nulls, lb_test_arm_timeout),
        cmocka_unit_test_setup(syntax_errors_with_positions, lb_test_arm_timeout),
        cmocka_unit_test_setup(spec_errors_name_file_and_path, lb_test_arm_timeout),
        cmocka_unit_test_setup(apply_to_results, lb_test_arm_timeout),
        cmocka_unit_test_setup(spec_keeps_the_parsed_ast, lb_test_arm_timeout),
        cmocka_unit_test_setup(verdicts_print_with_units, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
