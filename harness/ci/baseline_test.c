/*
 * baseline_test.c — named baselines: saved under $LEAKBENCH_BASELINE_DIR
 * without sample rows, compared against a doctored run, bad names and
 * missing baselines rejected with a message.
 */
#include "baseline.h"
#include "core/test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SINGLE "harness/testdata/results-single.json"

static char tmpdir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "baseline");
    lb_test_use_baseline_dir(tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

static void save_and_compare(void **state)
{
    (void)state;
    char err[512], path[256];
    json_t *doc = json_load_file(SINGLE, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(lb_baseline_save("main", doc, err, sizeof err), 0);
    assert_int_equal(lb_baseline_path("main", path, sizeof path, err, sizeof err), 0);
    json_t *saved = json_load_file(path, 0, NULL);
    assert_non_null(saved);
    json_t *run0 = json_array_get(
        json_object_get(json_array_get(json_object_get(saved, "scenarios"), 0), "runs"), 0);
    assert_null(json_object_get(json_object_get(run0, "samples"), "rows"));
    assert_non_null(json_object_get(json_object_get(run0, "metrics"), "peak_tasks"));
    json_decref(saved);

    lb_compare_opts o = LB_COMPARE_DEFAULTS;
    lb_comparison c;
    assert_int_equal(lb_baseline_compare("main", doc, &o, &c, err, sizeof err), 0);
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_PASS);
    lb_comparison_free(&c);

    json_t *s = json_array_get(json_object_get(doc, "scenarios"), 0);
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(s, "summary"), "graceful"), "peak_tasks"),
        "median", json_integer(500));
    assert_int_equal(lb_baseline_compare("main", doc, &o, &c, err, sizeof err), 0);
    assert_int_equal(c.count[LB_REGRESSED], 1);
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_REGRESSION);
    lb_comparison_free(&c);
    json_decref(doc);
}

static void bad_names_and_missing(void **state)
{
    (void)state;
    char err[512], path[256];
    assert_int_equal(lb_baseline_path("../etc/x", path, sizeof path, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "baseline name '../etc/x'"));
    assert_int_equal(lb_baseline_path(".hidden", path, sizeof path, err, sizeof err), -EINVAL);
    assert_int_equal(lb_baseline_path("", path, sizeof path, err, sizeof err), -EINVAL);
    assert_int_equal(lb_baseline_path("a/b", path, sizeof path, err, sizeof err), -EINVAL);
    assert_int_equal(lb_baseline_path("v1.2_rc-3", path, sizeof path, err, sizeof err), 0);
    json_t *doc = json_load_file(SINGLE, 0, NULL);
    lb_compare_opts o = LB_COMPARE_DEFAULTS;
    lb_comparison c;
    assert_int_equal(lb_baseline_compare("nope", doc, &o, &c, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "baseline 'nope' not found"));
    assert_non_null(strstr(err, "--save-baseline nope"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(save_and_compare, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_names_and_missing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
