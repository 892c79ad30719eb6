/*
 * main_test.c — leakbench's top level through the built binary
 * (lb_test_leakbench): a misspelt command gets one line with a suggestion
 * and exit 2, not the whole usage; an unknown one says where the list is;
 * --version names the version, the commit and what it was built with.
 */
#include "core/test_util.h"

#include <string.h>

/* Runs the binary with one argument; its stdout+stderr into out. */
static int run1(const char *arg, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' '%s' 2>&1", lb_test_leakbench(), arg);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void misspelt_command_gets_one_line_and_a_suggestion(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(run1("reprot", out, sizeof out), 2);
    assert_string_equal(out, "leakbench: unknown command 'reprot' (did you mean 'report'?)\n");
    assert_int_equal(run1("deploy", out, sizeof out), 2);
    assert_string_equal(out,
                        "leakbench: unknown command 'deploy'; `leakbench --help` lists them\n");
}

static void version_names_commit_and_build(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(run1("--version", out, sizeof out), 0);
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
