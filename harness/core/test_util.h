/*
 * test_util.h — helpers shared by the harness's cmocka tests: a timeout
 * per test, a floating-point comparison that prints both numbers (this
 * cmocka has no assert_double_equal), a scratch directory per test made in
 * setup and removed in teardown, a subcommand called with its stdout kept
 * out of the test log, a program started with its output in a log
 * (lb_test_spawn, lb_test_wait, lb_test_wait_within), a file read whole, an XML file checked with
 * xmllint when it is installed, and a way for a child process to give up
 * root's power to ignore file permissions (so permission tests mean the
 * same as root, which is how CI runs them), a spec loaded from JSON
 * text, and the processes whose environment or command line holds a
 * marker.
 *
 * Header-only (static functions): every test program is one .c file
 * linked with the harness, and these are not part of the harness.
 */
#ifndef LEAKBENCH_TEST_UTIL_H
#define LEAKBENCH_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/spec.h"

#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps))) {                                                           \
            print_error("%s = %.17g, expected %.17g (within %g)\n", #a, a_, b_, (double)(eps));    \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static inline int lb_test_arm_timeout(void **state)
{
    (void)state;
    alarm(60);
    return 0;
}

/* Makes a fresh, empty directory /tmp/lb-NAME-test-XXXXXX; its path goes
 * to buf (n bytes).  Fails the test when it cannot. */
static inline void lb_test_make_tmpdir(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "/tmp/lb-%s-test-XXXXXX", name);
    assert_non_null(mkdtemp(buf));
}

/* Removes dir and everything below it: 0, or -1 (a teardown's result). */
static inline int lb_test_remove_tree(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Points LEAKBENCH_BASELINE_DIR at DIR/baselines, so named baselines a test
 * saves stay in its scratch directory. */
static inline void lb_test_use_baseline_dir(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/baselines", dir);
    setenv("LEAKBENCH_BASELINE_DIR", path, 1);
}

/* Calls a subcommand's main(argc, argv) with stdout sent to /dev/null (its
 * tables would fill the test log) and returns its exit code. */
static inline int lb_test_call_quietly(int (*main_fn)(int argc, char **argv), int argc, char **argv)
{
    fflush(stdout);
    int saved = dup(1), devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    int rc = main_fn(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(devnull);
    return rc;
}

/* The whole of path (up to 1 MiB), NUL-terminated, in a buffer the next
 * call overwrites.  Fails the test, naming the file, when it cannot be
 * opened. */
static inline char *lb_test_slurp(const char *path)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    if (!f) print_error("cannot open %s\n", path);
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* The lines of path (1-based, up to max of them) that contain marker,
 * such as the "LEAK SITE" comments of scenarios and examples: their
 * count, or -errno when path cannot be read. */
static inline int lb_test_marker_lines(const char *path, const char *marker, int *lines, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) return -errno;
    char buf[512];
    int n = 0, line = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (strstr(buf, marker) && n < max) lines[n++] = line;
    }
    fclose(f);
    return n;
}

/* Processes other than this one whose /proc/PID/what ("cmdline" or
 * "environ", NUL-separated strings) holds word as one of its strings (or,
 * with anywhere, inside one): how a test finds what a run left running,
 * by a marker in the environment it gave the target or in the command
 * line it ran.  Zombies and kernel threads have empty files and are not
 * counted. */
static inline int lb_test_processes_with(const char *what, const char *word, bool anywhere)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    int found = 0;
    struct dirent *e;
    static char buf[1 << 16];
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == getpid()) continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/%s", pid, what);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = 0;
        for (char *a = buf; a < buf + n; a += strlen(a) + 1)
            if (anywhere ? strstr(a, word) != NULL : strcmp(a, word) == 0) {
                found++;
                break;
            }
    }
    closedir(d);
    return found;
}

/* Runs xmllint --noout on path: its exit status (0: well-formed), or -1
 * when xmllint is not installed (the check is then skipped). */
static inline int lb_test_xmllint(const char *path)
{
    if (access("/usr/bin/xmllint", X_OK) != 0) return -1;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/usr/bin/xmllint", "xmllint", "--noout", path, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The leakbench binary under test: $LEAKBENCH (make test sets it), else
 * build/leakbench. */
static inline const char *lb_test_leakbench(void)
{
    const char *p = getenv("LEAKBENCH");
    return p && *p ? p : "build/leakbench";
}

/* Starts argv[0] (a NULL-terminated argv) with stdout and stderr going to
 * LOG (appended to, or truncated first when truncate) and, when env is
 * not NULL, the variable "NAME=VALUE" it holds set.  Returns the pid;
 * lb_test_wait collects its exit code. */
static inline pid_t lb_test_spawn(const char *log, bool truncate, const char *const *argv,
                                  const char *env)
{
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND), 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (env) putenv((char *)env);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits for a process lb_test_spawn started: its exit code (a death by a
 * signal fails the test). */
static inline int lb_test_wait(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    if (!WIFEXITED(status))
        print_error("process %d died of signal %d\n", (int)pid, WTERMSIG(status));
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Waits at most ms milliseconds for child pid to end: its exit code, or
 * 128 + the signal that ended it; -1 while it still runs after ms. */
static inline int lb_test_wait_within(pid_t pid, int ms)
{
    for (int waited = 0;; waited += 5) {
        int status;
        pid_t got = waitpid(pid, &status, WNOHANG);
        assert_true(got >= 0 || errno == EINTR);
        if (got == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (waited >= ms) return -1;
        usleep(5000);
    }
}

/* Runs `leakbench ARGS 2>&1` through the shell (ARGS are shell words, so
 * the caller quotes what needs it); what it printed into out (size n,
 * terminated).  Returns its exit status, -1 when a signal ended it. */
static inline int lb_test_leakbench_output(const char *args, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", lb_test_leakbench(), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* For a forked child about to exec the program under test: removes
 * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the capability bounding
 * set, so that after exec even root is refused a file or directory whose
 * mode bits refuse it.  0 when done, or when the process never had these
 * powers (not root: nothing to drop); -1 when root could not drop them. */
static inline int lb_test_obey_file_modes(void)
{
    if (geteuid() != 0) return 0;
    if (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0) return -1;
    if (prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) != 0) return -1;
    return 0;
}

/* A spec loaded from JSON text (named name in messages); fails the test,
 * printing the loader's message, when it does not load. */
static inline lb_spec lb_test_load_spec(const char *name, const char *json)
{
    lb_spec spec;
    lb_spec_error err;
    int rc = lb_spec_load_string(name, json, &spec, &err);
    if (rc) print_error("%s\n", err.text);
    assert_int_equal(rc, 0);
    return spec;
}

/* Expects json (named name) to be refused as invalid with exactly the
 * message want; prints both when not. */
static inline void lb_test_spec_refused(const char *name, const char *json, const char *want)
{
    lb_spec spec;
    lb_spec_error err;
    int rc = lb_spec_load_string(name, json, &spec, &err);
    if (rc == 0) lb_spec_free(&spec);
    if (rc != -EINVAL || strcmp(err.text, want) != 0) {
        print_error("rc %d\n got:  %s\n want: %s\n", rc, rc ? err.text : "(loaded)", want);
        fail();
    }
}

#endif
