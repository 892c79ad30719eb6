/*
 * cmd_run_test.c — every bad input of `leakbench run`, through the built
 * binary ($LEAKBENCH, default build/leakbench): bad option values, an
 * unknown option, a missing value, no spec, a missing, unreadable or
 * directory spec, -o naming a file, and an output directory that cannot
 * be written.  Each must exit with its documented code (harness/cli/cli.h: 2
 * for usage and spec errors, 3 for output I/O), say what is wrong on the
 * first line of stderr, run nothing, and leave a results.json already in
 * the output directory exactly as it was.
 *
 * The spec given with the bad inputs has a two-minute load: if a bad
 * input let a run start, the test's 60 s alarm would end it as a failure.
 * The binary runs without root's power to override file modes
 * (lb_test_obey_file_modes), so the permission cases are checked for
 * real when the tests run as root, as CI runs them.
 */
#include "core/test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char spec[128];    /* a valid spec with a long load */
static char out[128];     /* an output directory holding an earlier results.json */
static char results[160]; /* out/results.json */

static const char previous[] = "{\"schema\": \"leakbench-results\", \"an earlier run\": true}\n";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(dir, sizeof dir, "cmd-run");
    snprintf(spec, sizeof spec, "%s/long.json", dir);
    write_file(spec, "{\"scenario\": \"timeout_leak\", \"load\": {\"rate\": 10,"
                     " \"duration_ms\": 120000}}");
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    snprintf(results, sizeof results, "%s/results.json", out);
    write_file(results, previous);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chmod(out, 0755);
    return lb_test_remove_tree(dir);
}

/* Runs `leakbench run ARGS...` (NULL-terminated) with stdout and stderr in
 * DIR/log; returns the exit code and the first line of the log. */
static int run_cli(char *first_line, size_t n, ...)
{
    char log[128];
    snprintf(log, sizeof log, "%s/log", dir);
    const char *argv[16] = {lb_test_leakbench(), "run"};
    int argc = 2;
    va_list ap;
    va_start(ap, n);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 15) argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (lb_test_obey_file_modes() != 0) _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    assert_true(WIFEXITED(status));
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    first_line[0] = 0;
    if (!fgets(first_line, (int)n, f)) first_line[0] = 0;
    fclose(f);
    return WEXITSTATUS(status);
}

/* The output directory still holds only the earlier results.json, as it was. */
static void assert_output_untouched(void)
{
    char text[256] = "";
    FILE *f = fopen(results, "r");
    assert_non_null(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    assert_string_equal(text, previous);
    DIR *d = opendir(out);
    assert_non_null(d);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && ++entries > 1)
            print_error("unexpected in %s: %s\n", out, e->d_name);
    closedir(d);
    assert_int_equal(entries, 1);
}

static void expect(int want_code, const char *want_text, int code, const char *line)
{
    if (code != want_code || !strstr(line, want_text))
        print_error("exit %d, stderr: %s(wanted exit %d and '%s')\n", code, line, want_code,
                    want_text);
    assert_int_equal(code, want_code);
    assert_non_null(strstr(line, want_text));
    assert_output_untouched();
}

/* ------------------------------------------------------------ options -- */

static void bad_option_values_exit_2(void **state)
{
    (void)state;
    char line[512];
    int rc = run_cli(line, sizeof line, "-q", "-o", out, "--reps", "0", spec, NULL);
    expect(2, "leakbench run: --reps: '0' is not an integer in 1..1000", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--reps=1.5", spec, NULL);
    expect(2, "--reps: '1.5' is not an integer in 1..1000", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--sample-ms", "0", spec, NULL);
    expect(2, "leakbench run: --sample-ms: '0' is not a number in 1..60000", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--duration", "garbage", spec, NULL);
    expect(2, "leakbench run: --duration: 'garbage' is not a duration", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--duration", "5h", spec, NULL);
    expect(2, "--duration: '5h' is not a duration", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--scheduler", "bogus", spec, NULL);
    expect(2, "leakbench run: --scheduler: unknown scheduler 'bogus' (threads or coroutines)", rc,
           line);
    /* Plain decimals only: hex, blanks and bare fractions used to be taken. */
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--reps", "0x10", spec, NULL);
    expect(2, "--reps: '0x10' is not an integer in 1..1000", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--reps", " 5", spec, NULL);
    expect(2, "--reps: ' 5' is not an integer in 1..1000", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--rate", ".5", spec, NULL);
    expect(2, "--rate: '.5' is not a rate", rc, line);
    /* A duration needs its unit: "2" silently meant 2 ms. */
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--duration", "2", spec, NULL);
    expect(2, "--duration: '2' is not a duration with its unit (5000ms, 5s, 2m", rc, line);
    /* What the user typed is quoted with its control bytes escaped. */
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--scheduler", "th\x1b[31m", spec, NULL);
    expect(2, "unknown scheduler 'th\\x1b[31m'", rc, line);
}

static void unknown_option_missing_value_and_no_spec_exit_2(void **state)
{
    (void)state;
    char line[512];
    int rc = run_cli(line, sizeof line, "-q", "-o", out, "--frobnicate", spec, NULL);
    expect(2, "leakbench run: unknown option '--frobnicate'", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "-x", spec, NULL);
    expect(2, "leakbench run: unknown option '-x'", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, spec, "--reps", NULL);
    expect(2, "leakbench run: option '--reps' needs a value", rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, NULL);
    expect(2, "leakbench run: no SPEC given", rc, line);
}

static void bad_option_creates_no_output_directory(void **state)
{
    (void)state;
    char line[512], fresh[160];
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    int rc = run_cli(line, sizeof line, "-q", "-o", fresh, "--sample-ms", "-3", spec, NULL);
    expect(2, "--sample-ms: '-3' is not a number in 1..60000", rc, line);
    struct stat st;
    assert_int_equal(stat(fresh, &st), -1);
    assert_int_equal(errno, ENOENT);
}

/* -------------------------------------------------------------- specs -- */

static void missing_spec_file_exits_2(void **state)
{
    (void)state;
    char line[512], missing[160], want[512];
    snprintf(missing, sizeof missing, "%s/missing.json", dir);
    int rc = run_cli(line, sizeof line, "-q", "-o", out, missing, NULL);
    snprintf(want, sizeof want, "leakbench run: %s: cannot read: No such file or directory",
             missing);
    expect(2, want, rc, line);
    /* One bad spec among good ones: still nothing runs. */
    rc = run_cli(line, sizeof line, "-q", "-o", out, spec, missing, NULL);
    expect(2, want, rc, line);
}

static void directory_as_spec_exits_2(void **state)
{
    (void)state;
    char line[512], want[512];
    int rc = run_cli(line, sizeof line, "-q", "-o", out, dir, NULL);
    snprintf(want, sizeof want, "leakbench run: %s: cannot read: Is a directory", dir);
    expect(2, want, rc, line);
}

static void unreadable_spec_exits_2(void **state)
{
    (void)state;
    char line[512], locked[160], want[512];
    /* A path through a file: unreadable for anyone, root included. */
    char through[200];
    snprintf(through, sizeof through, "%s/x.json", spec);
    int rc = run_cli(line, sizeof line, "-q", "-o", out, through, NULL);
    snprintf(want, sizeof want, "leakbench run: %s: cannot read: Not a directory", through);
    expect(2, want, rc, line);

    snprintf(locked, sizeof locked, "%s/locked.json", dir);
    write_file(locked, "{\"scenario\": \"timeout_leak\"}");
    assert_int_equal(chmod(locked, 0), 0);
    rc = run_cli(line, sizeof line, "-q", "-o", out, locked, NULL);
    snprintf(want, sizeof want, "leakbench run: %s: cannot read: Permission denied", locked);
    expect(2, want, rc, line);
}

/* ------------------------------------------------------------- output -- */

static void output_that_is_a_file_exits_3_before_running(void **state)
{
    (void)state;
    char line[512], want[512];
    /* -o names the earlier results.json itself. */
    int rc = run_cli(line, sizeof line, "-q", "-o", results, spec, NULL);
    snprintf(want, sizeof want,
             "leakbench run: -o %s: cannot create the output directory: Not a directory", results);
    expect(3, want, rc, line);
    /* -o under a file. */
    char below[200];
    snprintf(below, sizeof below, "%s/sub", results);
    rc = run_cli(line, sizeof line, "-q", "-o", below, spec, NULL);
    snprintf(want, sizeof want,
             "leakbench run: -o %s: cannot create the output directory: Not a directory", below);
    expect(3, want, rc, line);
}

static void unwritable_output_directory_exits_3_before_running(void **state)
{
    (void)state;
    char line[512], want[512];
    assert_int_equal(chmod(out, 0555), 0);
    int rc = run_cli(line, sizeof line, "-q", "-o", out, spec, NULL);
    snprintf(want, sizeof want,
             "leakbench run: -o %s: cannot write in the output directory: Permission denied", out);
    expect(3, want, rc, line);
    assert_output_untouched();
}

/* --junit and --history are checked before anything runs (the spec's
 * two-minute load would trip the alarm otherwise), as -o is. */
static void unwritable_junit_or_history_exits_3_before_running(void **state)
{
    (void)state;
    char line[512], want[512];
    int rc = run_cli(line, sizeof line, "-q", "-o", out, "--junit", "/proc/x.xml", spec, NULL);
    snprintf(want, sizeof want,
             "leakbench run: --junit /proc/x.xml: cannot create a file in /proc: ");
    expect(3, want, rc, line);
    rc = run_cli(line, sizeof line, "-q", "-o", out, "--history", dir, spec, NULL);
    snprintf(want, sizeof want, "leakbench run: --history %s: is a directory, not a file to write",
             dir);
    expect(3, want, rc, line);
    assert_output_untouched();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bad_option_values_exit_2, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_option_missing_value_and_no_spec_exit_2, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_option_creates_no_output_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_spec_file_exits_2, setup, teardown),
        cmocka_unit_test_setup_teardown(directory_as_spec_exits_2, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_spec_exits_2, setup, teardown),
        cmocka_unit_test_setup_teardown(output_that_is_a_file_exits_3_before_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unwritable_output_directory_exits_3_before_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unwritable_junit_or_history_exits_3_before_running, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
