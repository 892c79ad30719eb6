/*
 * main_test.c — leakbench's top level through the built binary
 * (lb_test_leakbench): a misspelt command gets one line with a suggestion
 * and exit 2, not the whole usage; an unknown one says where the list is;
 * --version names the version, the commit and what it was built with.
 */
#include "core/test_util.h"

#include <string.h>

static void misspelt_command_gets_one_line_and_a_suggestion(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(lb_test_leakbench_output("reprot", out, sizeof out), 2);
    assert_string_equal(out, "leakbench: unknown command 'reprot' (did you mean 'report'?)\n");
    assert_int_equal(lb_test_leakbench_output("deploy", out, sizeof out), 2);
    assert_string_equal(out,
                        "leakbench: unknown command 'deploy'; `leakbench --help` lists them\n");
}

static void version_names_commit_and_build(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(lb_test_leakbench_output("--version", out, sizeof out), 0);
    assert_true(!strncmp(out, "leakbench ", 10));
    assert_non_null(strstr(out, "\ncommit:      "));
    assert_non_null(strstr(out, "\nresults:     schema_version "));
    assert_non_null(strstr(out, "jansson "));
    assert_non_null(strstr(out, "llhttp "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(misspelt_command_gets_one_line_and_a_suggestion,
                               lb_test_arm_timeout),
        cmocka_unit_test_setup(version_names_commit_and_build, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
