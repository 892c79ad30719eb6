/*
 * timeout_leak_test.c — the quick.json gate: runs the seed pair through
 * the built binary ($LEAKBENCH, default build/leakbench) exactly as CI
 * does (`leakbench run scenarios/quick.json`, from the repository root)
 * and checks the acceptance criteria on the results it wrote:
 *   - leaky peak tasks >= 10x graceful peak tasks;
 *   - leaky recovery: restart required (recovered false, recovery_ms null);
 *   - graceful recovery under 100 ms;
 *   - graceful leaks nothing;
 *   - leaky leaked tasks == requests that timed out, all in one group
 *     blocked in send at the worker's site;
 *   - accounting balances for both variants.
 */
#include "harness/core/test_util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int arm_timeout(void **state)
{
    (void)state;
    alarm(120);
    return 0;
}

static json_t *get(json_t *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *key = strtok(buf, "."); key && o; key = strtok(NULL, "."))
        o = json_object_get(o, key);
    return o;
}

static double num(json_t *o, const char *path)
{
    json_t *v = get(o, path);
    if (!json_is_number(v)) {
        print_error("%s is not a number\n", path);
        fail();
    }
    return json_number_value(v);
}

static void quick_json_meets_the_acceptance_criteria(void **state)
{
    (void)state;
    const char *bin = lb_test_leakbench();
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/quick_gate.XXXXXX");
    assert_non_null(mkdtemp(dir));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(bin, bin, "run", "-q", "--no-report", "-o", dir, "scenarios/quick.json",
              (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    char path[128];
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    assert_non_null(j);
    json_t *runs = get(json_array_get(json_object_get(j, "scenarios"), 0), "runs");
    assert_int_equal(json_array_size(runs), 2);
    json_t *leaky = json_array_get(runs, 0), *graceful = json_array_get(runs, 1);
    assert_string_equal(json_string_value(get(leaky, "variant")), "leaky");
    assert_string_equal(json_string_value(get(graceful, "variant")), "graceful");
    assert_string_equal(json_string_value(get(leaky, "status")), "completed");
    assert_string_equal(json_string_value(get(graceful, "status")), "completed");

    double leaky_peak = num(leaky, "metrics.peak_tasks");
    double graceful_peak = num(graceful, "metrics.peak_tasks");
    print_message("peak tasks: leaky %.0f, graceful %.0f (%.1fx)\n", leaky_peak, graceful_peak,
                  leaky_peak / graceful_peak);
    assert_true(leaky_peak >= 10 * graceful_peak);

    assert_true(json_is_false(get(leaky, "metrics.recovered")));
    assert_true(json_is_null(get(leaky, "metrics.recovery_ms")));

    assert_true(json_is_true(get(graceful, "metrics.recovered")));
    double recovery = num(graceful, "metrics.recovery_ms");
    print_message("graceful recovery: %.1f ms\n", recovery);
    assert_true(recovery < 100);

    assert_near(num(graceful, "metrics.leaked_tasks"), 0, 0);
    assert_near(num(graceful, "leaks.total"), 0, 0);

    double timed_out = num(leaky, "accounting.timed_out");
    assert_true(timed_out > 0);
    assert_near(num(leaky, "metrics.leaked_tasks"), timed_out, 0);
    json_t *group = json_array_get(get(leaky, "leaks.groups"), 0);
    assert_non_null(group);
    assert_string_equal(json_string_value(get(group, "op")), "send");
    assert_string_equal(json_string_value(get(group, "role")), "worker");
    assert_string_equal(json_string_value(get(group, "site.func")), "leaky_worker");
    assert_near(num(group, "count"), timed_out, 0);

    assert_true(json_is_true(get(leaky, "accounting.balanced")));
    assert_true(json_is_true(get(graceful, "accounting.balanced")));
    json_decref(j);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(quick_json_meets_the_acceptance_criteria, arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
