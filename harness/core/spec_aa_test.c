/*
 * spec_aa_test.c — an A/A spec (core/spec_aa.c): for a built-in pair
 * both sides get the chosen variant's functions and the registry's
 * scenario is left as it was; for a target pair both sides get the
 * chosen program, and the spec as run shows it twice.
 */
#include "core/test_util.h"

#include "core/spec_aa.h"

#include <string.h>

static void builtin_pair_runs_one_variant_twice(void **state)
{
    (void)state;
    lb_spec spec = lb_test_load_spec("aa.json", "{\"scenario\": \"timeout_leak\"}");
    lb_scenario_spec *s = &spec.items[0];
    const lb_scenario *registry = s->scenario;
    lb_variant leaky = registry->leaky, graceful = registry->graceful;
    assert_ptr_not_equal(leaky.handle, graceful.handle);
    lb_scenario copy;
    lb_scenario_spec_make_aa(s, true, &copy);
    assert_ptr_equal(s->scenario, &copy);
    assert_ptr_equal(s->scenario->graceful.handle, leaky.handle);
    assert_ptr_equal(s->scenario->graceful.setup, leaky.setup);
    assert_ptr_equal(s->scenario->leaky.handle, leaky.handle);
    assert_string_equal(s->scenario->name, "timeout_leak");
    assert_ptr_equal(registry->graceful.handle, graceful.handle); /* untouched */
    lb_spec_free(&spec);

    spec = lb_test_load_spec("aa.json", "{\"scenario\": \"timeout_leak\"}");
    lb_scenario_spec_make_aa(&spec.items[0], false, &copy);
    assert_ptr_equal(spec.items[0].scenario->leaky.handle, graceful.handle);
    lb_spec_free(&spec);
}

static void target_pair_runs_one_program_twice(void **state)
{
    (void)state;
    lb_spec spec = lb_test_load_spec(
        "aa.json", "{\"name\": \"seed\", \"target\": {"
                   " \"leaky\": {\"command\": [\"bin/seed\", \"-mode\", \"leaky\"]},"
                   " \"graceful\": {\"command\": [\"bin/seed\", \"-mode\", \"graceful\"]}}}");
    lb_scenario_spec *s = &spec.items[0];
    lb_scenario unused;
    lb_scenario_spec_make_aa(s, false, &unused);
    const char *argv[LB_TARGET_MAX_ARGS + 1];
    lb_target_variant_argv(&s->target.leaky, argv);
    assert_string_equal(argv[2], "graceful");
    lb_target_variant_argv(&s->target.graceful, argv);
    assert_string_equal(argv[2], "graceful");
    json_t *as_run = lb_scenario_spec_to_json(s);
    assert_true(json_equal(json_object_get(json_object_get(as_run, "target"), "leaky"),
                           json_object_get(json_object_get(as_run, "target"), "graceful")));
    json_decref(as_run);
    lb_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(builtin_pair_runs_one_variant_twice, lb_test_arm_timeout),
        cmocka_unit_test_setup(target_pair_runs_one_program_twice, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
