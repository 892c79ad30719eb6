/*
 * target_test.c — external targets started, guarded and stopped
 * (target.c, cgroup.c, proctree.c): a target that exits at once, one that
 * never gets ready, one that ignores SIGTERM, one that forks a child and
 * exits (the grandchild must still be found and killed), one that floods
 * stdout, one that exceeds the memory guard (cgroup OOM kill, and RSS
 * polling), and leakbench itself disappearing — exit, SIGINT, SIGTERM,
 * SIGKILL — with the target's processes gone within a second every time.
 *
 * The targets are sh one-liners and this program itself in a role
 * (LB_TARGET_TEST_ROLE=hog: allocate and touch memory until killed).
 * Every test ends by checking that no process of its target is left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/test_util.h"
#include "target.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char self_exe[4096];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Live processes of process group pgid (or in cgroup_procs). */
static int alive(pid_t pgid, const char *cgroup_procs)
{
    return lb_proctree_scan(pgid, pgid, cgroup_procs, NULL, 0, NULL);
}

/* True once nothing of pgid is alive, polling for up to ms. */
static bool gone_within(pid_t pgid, const char *cgroup_procs, int ms)
{
    double end = now_ms() + ms;
    while (alive(pgid, cgroup_procs) > 0) {
        if (now_ms() > end) return false;
        usleep(5000);
    }
    return true;
}

static void start(lb_target *t, const char *const *argv, int64_t limit, bool no_cgroup,
                  const char *out_path)
{
    lb_target_config c = {0};
    c.argv = argv;
    c.port = LB_TARGET_PORT_AUTO;
    c.memory_limit_bytes = limit;
    c.no_cgroup = no_cgroup;
    c.stdout_path = out_path;
    c.log_cap_bytes = 64 * 1024;
    char err[256];
    int rc = lb_target_start(&c, t, err, sizeof err);
    if (rc) print_error("start: %s\n", err);
    assert_int_equal(rc, 0);
}

static void stop_and_check(lb_target *t, int sig, int grace_ms, lb_target_shutdown *sd)
{
    pid_t pgid = t->pid;
    assert_int_equal(lb_target_stop(t, sig, grace_ms, sd), 0);
    assert_int_equal(sd->leftover, 0);
    assert_true(gone_within(pgid, NULL, 0));
    assert_int_equal(t->keeper_fd, -1);
}

static void exits_at_once(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "exit 3", NULL};
    lb_target t;
    start(&t, argv, 0, true, NULL);
    char err[256];
    int rc = lb_target_wait_ready(&t, LB_READY_HTTP, "/healthz", 5000, NULL, err, sizeof err);
    assert_int_equal(rc, -ECHILD);
    assert_non_null(strstr(err, "exited before it was ready (exited with status 3)"));
    lb_target_shutdown sd;
    stop_and_check(&t, SIGTERM, 1000, &sd);
    assert_int_equal(sd.outcome, LB_SHUTDOWN_ALREADY_GONE);
    assert_true(sd.main_exited && WIFEXITED(sd.main_status) && WEXITSTATUS(sd.main_status) == 3);
}

static void cannot_execute(void **state)
{
    (void)state;
    const char *argv[] = {"/nonexistent/leakbench-target", NULL};
    lb_target_config c = {0};
    c.argv = argv;
    c.port = LB_TARGET_PORT_NONE;
    lb_target t;
    char err[256];
    assert_int_equal(lb_target_start(&c, &t, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "cannot start /nonexistent/leakbench-target"));
    const char *empty[] = {NULL};
    c.argv = empty;
    assert_int_equal(lb_target_start(&c, &t, err, sizeof err), -EINVAL);
}

static void never_ready(void **state)
{
    (void)state;
    const char *argv[] = {"sleep", "30", NULL};
    lb_target t;
    start(&t, argv, 0, true, NULL);
    char err[256];
    assert_int_equal(lb_target_wait_ready(&t, LB_READY_TCP, NULL, 300, NULL, err, sizeof err),
                     -ETIMEDOUT);
    assert_non_null(strstr(err, "not ready after 300 ms: connect to 127.0.0.1:"));
    assert_int_equal(lb_target_wait_ready(&t, LB_READY_HTTP, "/", 300, NULL, err, sizeof err),
                     -ETIMEDOUT);
    lb_target_shutdown sd;
    stop_and_check(&t, SIGTERM, 2000, &sd);
    assert_int_equal(sd.outcome, LB_SHUTDOWN_EXITED);
    assert_true(WIFSIGNALED(sd.main_status) && WTERMSIG(sd.main_status) == SIGTERM);
}

static void ignores_sigterm(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", NULL};
    lb_target t;
    start(&t, argv, 0, true, NULL);
    usleep(100 * 1000);
    lb_target_shutdown sd;
    stop_and_check(&t, SIGTERM, 300, &sd);
    assert_int_equal(sd.outcome, LB_SHUTDOWN_KILLED);
    assert_true(sd.shutdown_ms >= 300);
    assert_true(WIFSIGNALED(sd.main_status) && WTERMSIG(sd.main_status) == SIGKILL);
    char buf[64];
    assert_string_equal(lb_wait_status_text(sd.main_status, buf, sizeof buf), "killed by SIGKILL");
}

/* The started process exits at once; its child lives on, reparented. */
static void forks_a_child_and_exits(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "sleep 30 & exit 0", NULL};
    lb_target t;
    start(&t, argv, 0, true, NULL);
    pid_t pgid = t.pid;
    lb_proctree_sample s = {0};
    double end = now_ms() + 5000;
    while (!t.main_exited && now_ms() < end) {
        assert_true(lb_target_poll(&t, &s) >= 0);
        usleep(5000);
    }
    assert_true(t.main_exited);
    /* The grandchild, found by its group; until it has exec'd sleep its
     * statm can read 0, so wait (bounded) for a reading with memory. */
    end = now_ms() + 5000;
    do {
        assert_int_equal(lb_target_poll(&t, &s), 1);
    } while (s.rss_bytes == 0 && now_ms() < end && usleep(5000) == 0);
    assert_true(s.threads >= 1 && s.rss_bytes > 0);
    lb_target_shutdown sd;
    stop_and_check(&t, SIGTERM, 2000, &sd);
    assert_int_equal(sd.outcome, LB_SHUTDOWN_EXITED);
    assert_true(gone_within(pgid, NULL, 0));
}

/* A grandchild that leaves the process group too (setsid) is still in
 * the cgroup, and is found and killed through it. */
static void escapes_the_group_but_not_the_cgroup(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "setsid sleep 30 & exit 0", NULL};
    lb_target t;
    start(&t, argv, 256 << 20, false, NULL);
    if (t.guard == LB_GUARD_RSS_POLL) {
        lb_target_shutdown sd;
        lb_target_stop(&t, SIGKILL, 0, &sd);
        printf("skip reason: no memory cgroup here (%s)\n", t.guard_note);
        skip();
    }
    char procs[sizeof t.cgroup.procs];
    snprintf(procs, sizeof procs, "%s", t.cgroup.procs);
    char dir[sizeof t.cgroup.dir];
    snprintf(dir, sizeof dir, "%s", t.cgroup.dir);
    /* Until the shell has exited and its child has called setsid(): on a
     * loaded machine the child can still be in the group for a while. */
    double end = now_ms() + 5000;
    int found = 0, by_group = -1;
    pid_t pids[4];
    while (now_ms() < end && !(t.main_exited && found == 1 && by_group == 0)) {
        found = lb_target_poll(&t, NULL);
        by_group = lb_proctree_scan(t.pid, t.pid, NULL, pids, 4, NULL);
        usleep(5000);
    }
    assert_int_equal(found, 1);    /* still found, through the cgroup */
    assert_int_equal(by_group, 0); /* not by group or parentage */
    lb_target_shutdown sd;
    assert_int_equal(lb_target_stop(&t, SIGTERM, 2000, &sd), 0);
    assert_int_equal(sd.outcome, LB_SHUTDOWN_EXITED);
    struct stat st;
    assert_int_equal(stat(dir, &st), -1); /* the cgroup is removed */
}

static void floods_stdout(void **state)
{
    (void)state;
    char dir[64], out[256];
    lb_test_make_tmpdir(dir, sizeof dir, "target-flood");
    snprintf(out, sizeof out, "%s/stdout.log", dir);
    const char *argv[] = {"sh", "-c", "yes flood | head -c 3000000; echo THE-END; sleep 30", NULL};
    lb_target t;
    start(&t, argv, 0, true, out);
    /* The keeper rewrites the file from its tail while output arrives. */
    double end = now_ms() + 10000;
    const char *text = "";
    while (now_ms() < end) {
        /* The keeper creates the file; on a loaded machine not at once. */
        if (access(out, F_OK) == 0 && strstr(text = lb_test_slurp(out), "THE-END\n")) break;
        usleep(20 * 1000);
    }
    lb_target_shutdown sd;
    stop_and_check(&t, SIGTERM, 2000, &sd);
    text = lb_test_slurp(out);
    size_t len = strlen(text);
    assert_true(strncmp(text, "[leakbench: ", 12) == 0);
    assert_non_null(strstr(text, "earlier bytes dropped; the last 65536 bytes follow]\n"));
    assert_true(len <= 65536 + 128);
    assert_true(len > 65536);
    assert_string_equal(text + len - 8, "THE-END\n");
    assert_non_null(strstr(text, "\nflood\nflood\n"));
    lb_test_remove_tree(dir);
}

static void hog_until_guard(bool no_cgroup, lb_guard_mechanism *mech, char *reason, size_t n)
{
    const char *argv[] = {self_exe, NULL};
    const char *env[] = {"LB_TARGET_TEST_ROLE=hog", NULL};
    lb_target_config c = {0};
    c.argv = argv;
    c.env = env;
    c.port = LB_TARGET_PORT_NONE;
    c.memory_limit_bytes = 48 << 20;
    c.no_cgroup = no_cgroup;
    lb_target t;
    char err[256];
    assert_int_equal(lb_target_start(&c, &t, err, sizeof err), 0);
    double end = now_ms() + 20000;
    while (!t.guard_fired && now_ms() < end) {
        assert_true(lb_target_poll(&t, NULL) >= 0);
        usleep(10 * 1000);
    }
    assert_true(t.guard_fired);
    *mech = t.guard;
    snprintf(reason, n, "%s", t.guard_reason);
    lb_target_shutdown sd;
    stop_and_check(&t, SIGTERM, 1000, &sd);
    assert_true(sd.main_exited && WIFSIGNALED(sd.main_status) &&
                WTERMSIG(sd.main_status) == SIGKILL);
}

static void memory_guard_cgroup_oom(void **state)
{
    (void)state;
    lb_guard_mechanism mech;
    char reason[160];
    hog_until_guard(false, &mech, reason, sizeof reason);
    if (mech == LB_GUARD_RSS_POLL) {
        printf("skip reason: no memory cgroup here; the guard fell back to RSS polling\n");
        skip();
    }
    assert_true(mech == LB_GUARD_CGROUP_V1 || mech == LB_GUARD_CGROUP_V2);
    assert_non_null(strstr(reason, "OOM kill (limit 48.0 MiB)"));
}

static void memory_guard_rss_polling(void **state)
{
    (void)state;
    lb_guard_mechanism mech;
    char reason[160];
    hog_until_guard(true, &mech, reason, sizeof reason);
    assert_int_equal(mech, LB_GUARD_RSS_POLL);
    assert_non_null(strstr(reason, "> limit 48.0 MiB (rss polling)"));
}

/* ------------------------------------------------- leakbench vanishes -- */

/* How the fake leakbench ends. */
enum ending { END_EXIT, END_SIGINT, END_SIGTERM, END_SIGKILL };

static void leakbench_vanishes(enum ending how, bool cgroup)
{
    int report[2], go[2];
    assert_int_equal(pipe(report), 0);
    assert_int_equal(pipe(go), 0);
    pid_t lb = fork();
    assert_true(lb >= 0);
    if (lb == 0) {
        /* the fake leakbench: start a target with a grandchild, report
         * its group (and cgroup), then end as told without cleaning up */
        close(report[0]);
        close(go[1]);
        const char *argv[] = {"sh", "-c", "sleep 300 & sleep 300", NULL};
        lb_target_config c = {0};
        c.argv = argv;
        c.port = LB_TARGET_PORT_NONE;
        c.memory_limit_bytes = cgroup ? 256 << 20 : 0;
        lb_target t;
        char err[256];
        if (lb_target_start(&c, &t, err, sizeof err) != 0) _exit(2);
        while (lb_target_poll(&t, NULL) < 2) usleep(2000); /* sh and its sleep */
        struct {
            pid_t pgid;
            char procs[600];
        } msg = {t.pid, ""};
        if (t.cgroup.kind) snprintf(msg.procs, sizeof msg.procs, "%s", t.cgroup.procs);
        if (write(report[1], &msg, sizeof msg) != (ssize_t)sizeof msg) _exit(3);
        char byte;
        while (read(go[0], &byte, 1) < 0) continue; /* until the test has looked */
        if (how == END_EXIT) _exit(0);
        for (;;) pause();
    }
    close(report[1]);
    close(go[0]);
    struct {
        pid_t pgid;
        char procs[600];
    } msg;
    assert_int_equal(read(report[0], &msg, sizeof msg), (ssize_t)sizeof msg);
    close(report[0]);
    assert_true(alive(msg.pgid, NULL) >= 2);
    close(go[1]);
    int sig[] = {0, SIGINT, SIGTERM, SIGKILL};
    if (how != END_EXIT) kill(lb, sig[how]);
    int status;
    assert_int_equal(waitpid(lb, &status, 0), lb);
    assert_true(how == END_EXIT ? WIFEXITED(status) : WIFSIGNALED(status));
    /* Gone within a second: process group, descendants and cgroup. */
    assert_true(gone_within(msg.pgid, msg.procs[0] ? msg.procs : NULL, 1000));
    if (msg.procs[0]) {
        char dir[600];
        snprintf(dir, sizeof dir, "%.*s", (int)(strlen(msg.procs) - strlen("/cgroup.procs")),
                 msg.procs);
        double end = now_ms() + 1000;
        struct stat st;
        while (stat(dir, &st) == 0 && now_ms() < end) usleep(5000);
        assert_int_equal(stat(dir, &st), -1); /* the keeper removed it */
    }
}

static void leakbench_exits_without_cleanup(void **state)
{
    (void)state;
    leakbench_vanishes(END_EXIT, false);
}

static void leakbench_gets_sigint(void **state)
{
    (void)state;
    leakbench_vanishes(END_SIGINT, false);
}

static void leakbench_gets_sigterm(void **state)
{
    (void)state;
    leakbench_vanishes(END_SIGTERM, true);
}

static void leakbench_is_sigkilled(void **state)
{
    (void)state;
    leakbench_vanishes(END_SIGKILL, false);
    leakbench_vanishes(END_SIGKILL, true);
}

/* ------------------------------------------------------------- roles -- */

/* LB_TARGET_TEST_ROLE=hog: touch 1 MiB more every millisecond, forever. */
static void hog(void)
{
    for (;;) {
        char *p = malloc(1 << 20);
        if (p) memset(p, 1, 1 << 20);
        usleep(1000);
    }
}

int main(void)
{
    const char *role = getenv("LB_TARGET_TEST_ROLE");
    if (role && strcmp(role, "hog") == 0) hog();
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) return 1;
    self_exe[n] = 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(exits_at_once, lb_test_arm_timeout),
        cmocka_unit_test_setup(cannot_execute, lb_test_arm_timeout),
        cmocka_unit_test_setup(never_ready, lb_test_arm_timeout),
        cmocka_unit_test_setup(ignores_sigterm, lb_test_arm_timeout),
        cmocka_unit_test_setup(forks_a_child_and_exits, lb_test_arm_timeout),
        cmocka_unit_test_setup(escapes_the_group_but_not_the_cgroup, lb_test_arm_timeout),
        cmocka_unit_test_setup(floods_stdout, lb_test_arm_timeout),
        cmocka_unit_test_setup(memory_guard_cgroup_oom, lb_test_arm_timeout),
        cmocka_unit_test_setup(memory_guard_rss_polling, lb_test_arm_timeout),
        cmocka_unit_test_setup(leakbench_exits_without_cleanup, lb_test_arm_timeout),
        cmocka_unit_test_setup(leakbench_gets_sigint, lb_test_arm_timeout),
        cmocka_unit_test_setup(leakbench_gets_sigterm, lb_test_arm_timeout),
        cmocka_unit_test_setup(leakbench_is_sigkilled, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
