/*
 * shard_test.c — the shard rule and the results' identity (ci/shard.c):
 * "I/N" parsing, the rule pinned to values computed independently (so a
 * change to it, which would move scenarios between shards for every
 * user, fails here), every scenario in exactly one shard, the suite's
 * name, and where the commit comes from (the CI variables in order,
 * refusal of a value that is not a commit, git, nothing outside a
 * repository).
 */
#include "core/test_util.h"

#include "ci/shard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void parses_i_of_n(void **state)
{
    (void)state;
    lb_shard s;
    assert_int_equal(lb_shard_parse("2/3", &s), 0);
    assert_int_equal(s.index, 2);
    assert_int_equal(s.count, 3);
    assert_int_equal(lb_shard_parse("1/1", &s), 0);
    assert_int_equal(lb_shard_parse("1000/1000", &s), 0);
    static const char *const bad[] = {"",      "3",    "0/3",  "4/3",   "1/0",  "1/1001",
                                      "-1/3",  "1/-3", " 1/3", "1/3 ",  "01/3", "1/03",
                                      "1.0/3", "a/b",  "1//3", "1/3/4", "/3",   "1/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (lb_shard_parse(bad[i], &s) != -EINVAL) print_error("'%s' accepted\n", bad[i]);
        assert_int_equal(lb_shard_parse(bad[i], &s), -EINVAL);
    }
}

/* FNV-1a-64 of the name mod 3, plus 1, computed outside leakbench. */
static void rule_is_pinned(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int shard;
    } pinned[] = {{"timeout_leak", 1},
                  {"early_return", 1},
                  {"first_response_wins", 3},
                  {"fanin_early_error", 3},
                  {"range_never_closed", 1},
                  {"abandoned_pipeline", 1},
                  {"start_without_stop", 3},
                  {"double_send", 3},
                  {"forgotten_cancel", 1},
                  {"lock_leak", 1},
                  {"waitgroup_mismatch", 1},
                  {"unbounded_spawn", 3},
                  {"timer_never_stopped", 2},
                  {"alpha", 1},
                  {"charlie", 2}};
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++)
        assert_int_equal(lb_shard_of(pinned[i].name, 3), pinned[i].shard);
}

/* Every name is in exactly one shard of each count (that the rule reads
 * a name alone, so adding a scenario moves no other, is its signature:
 * lb_shard_of takes no list). */
static void stable_and_exclusive(void **state)
{
    (void)state;
    char names[200][24];
    for (int n = 0; n < 200; n++) snprintf(names[n], sizeof names[n], "scenario%d", n);
    for (int count = 1; count <= 7; count++)
        for (int n = 0; n < 200; n++) {
            int in = 0;
            for (int index = 1; index <= count; index++) {
                lb_shard s = {index, count};
                in += lb_shard_contains(&s, names[n]);
            }
            assert_int_equal(in, 1);
        }
    lb_shard all = {0, 0};
    assert_true(lb_shard_contains(&all, "anything"));
}

static void suite_names_join(void **state)
{
    (void)state;
    lb_spec specs[2] = {lb_test_load_spec("a.json", "{\"suite\": \"nightly\", \"scenarios\": "
                                                    "[{\"scenario\": \"timeout_leak\"}]}"),
                        lb_test_load_spec("b.json", "{\"scenario\": \"lock_leak\"}")};
    char name[128];
    lb_suite_name(specs, 2, name, sizeof name);
    assert_string_equal(name, "nightly+lock_leak");
    lb_suite_name(specs, 1, name, sizeof name);
    assert_string_equal(name, "nightly");
    lb_spec_free(&specs[0]);
    lb_spec_free(&specs[1]);
}

static void commit_sources_in_order(void **state)
{
    (void)state;
    char commit[160], err[256];
    setenv("GITHUB_SHA", "1111", 1);
    setenv("CI_COMMIT_SHA", "2222", 1);
    setenv("LEAKBENCH_COMMIT", "v1.2-rc", 1);
    assert_int_equal(lb_commit_detect("x/spec.json", commit, sizeof commit, err, sizeof err), 0);
    assert_string_equal(commit, "v1.2-rc");
    unsetenv("LEAKBENCH_COMMIT");
    assert_int_equal(lb_commit_detect("x/spec.json", commit, sizeof commit, err, sizeof err), 0);
    assert_string_equal(commit, "1111");
    unsetenv("GITHUB_SHA");
    assert_int_equal(lb_commit_detect("x/spec.json", commit, sizeof commit, err, sizeof err), 0);
    assert_string_equal(commit, "2222");
    setenv("LEAKBENCH_COMMIT", "two words", 1);
    assert_int_equal(lb_commit_detect("x/spec.json", commit, sizeof commit, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "$LEAKBENCH_COMMIT: not a commit"));
    setenv("LEAKBENCH_COMMIT", "", 1);
    assert_int_equal(lb_commit_detect("x/spec.json", commit, sizeof commit, err, sizeof err),
                     -EINVAL);
    unsetenv("LEAKBENCH_COMMIT");
    unsetenv("CI_COMMIT_SHA");
}

/* Without the variables: git, in the spec's directory. */
static void commit_from_git_or_nothing(void **state)
{
    (void)state;
    char commit[160] = "x", err[256], dir[64], spec[96];
    unsetenv("LEAKBENCH_COMMIT");
    unsetenv("GITHUB_SHA");
    unsetenv("CI_COMMIT_SHA");
    lb_test_make_tmpdir(dir, sizeof dir, "shard");
    snprintf(spec, sizeof spec, "%s/spec.json", dir);
    assert_int_equal(lb_commit_detect(spec, commit, sizeof commit, err, sizeof err), 0);
    assert_string_equal(commit, ""); /* not a repository (nor git installed) */
    if (system("git --version >/dev/null 2>&1") != 0) {
        lb_test_remove_tree(dir);
        print_message("skip reason: git is not installed\n");
        skip();
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd %s && git init -q && git -c user.name=t -c user.email=t@t commit -q "
             "--allow-empty -m t && git rev-parse HEAD > head",
             dir);
    assert_int_equal(system(cmd), 0);
    char head_path[96];
    snprintf(head_path, sizeof head_path, "%s/head", dir);
    char *head = lb_test_slurp(head_path);
    head[strcspn(head, "\n")] = 0;
    assert_int_equal(lb_commit_detect(spec, commit, sizeof commit, err, sizeof err), 0);
    assert_string_equal(commit, head);
    lb_test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(parses_i_of_n, lb_test_arm_timeout),
        cmocka_unit_test_setup(rule_is_pinned, lb_test_arm_timeout),
        cmocka_unit_test_setup(stable_and_exclusive, lb_test_arm_timeout),
        cmocka_unit_test_setup(suite_names_join, lb_test_arm_timeout),
        cmocka_unit_test_setup(commit_sources_in_order, lb_test_arm_timeout),
        cmocka_unit_test_setup(commit_from_git_or_nothing, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
