/*
 * task_test.c — tasks: spawning, ids, live-task accounting (by_op sums to
 * live, totals), snapshots (truncation, roles, held bytes), a caller-given
 * counters page, rt_run's own errors, and the name tables; snapshots
 * after the registry has reused the slots of exited tasks, while tasks
 * spawn and exit, and after a stack-size change unmapped the headers of
 * finished tasks.
 */
#include "rt_test_util.h"

#include <dirent.h>
#include <sys/mman.h>
#include <sys/wait.h>

typedef struct {
    rt_chan *gate;
    rt_wg *wg;
    _Atomic uint64_t *ids;
    int idx;
} gate_job;

static void wait_at_gate(void *p)
{
    gate_job *j = p;
    j->ids[j->idx] = rt_task_id(rt_self());
    rt_task_hold(1000 + (size_t)j->idx);
    void *v;
    CHECK_ERR(rt_chan_recv(j->gate, &v, NULL), -EPIPE);
    rt_wg_done(j->wg);
}

RT_TEST(live_tasks_and_snapshot)
{
    enum { N = 10 };
    rt_counters *c = rt_counters_get();
    int64_t spawned0 = atomic_load(&c->spawned_total);
    CHECK_EQ(rt_live_tasks(), 1); /* main */
    CHECK(rt_self() != NULL);
    rt_chan *gate = rt_chan_new(0);
    rt_wg *wg = rt_wg_new();
    _Atomic uint64_t ids[N] = {0};
    gate_job jobs[N];
    rt_wg_add(wg, N);
    for (int i = 0; i < N; i++) {
        jobs[i] = (gate_job){.gate = gate, .wg = wg, .ids = ids, .idx = i};
        CHECK_ERR(rt_go("gated", wait_at_gate, &jobs[i]), 0);
    }
    CHECK_EQ(rt_live_tasks(), N + 1); /* counted at spawn, before running */
    CHECK_EQ(atomic_load(&c->spawned_total), spawned0 + N);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_RECV) == N, 5000));
    int64_t sum = 0;
    for (int op = 0; op < RT_OP_COUNT; op++) sum += rt_test_blocked((rt_op)op);
    CHECK_EQ(sum, N + 1);

    rt_task_info info[N + 1];
    CHECK_EQ(rt_snapshot(info, 3), N + 1); /* truncated copy, full count */
    CHECK_EQ(rt_snapshot(NULL, 0), N + 1);
    size_t n = rt_snapshot(info, N + 1);
    CHECK_EQ(n, N + 1);
    size_t held = 0;
    int gated = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(info[i].role, "gated") != 0) continue;
        gated++;
        held += info[i].held_bytes;
        CHECK_EQ(info[i].op, RT_OP_RECV);
        CHECK(!info[i].cancellable);
        bool known = false;
        for (int k = 0; k < N; k++) known |= ids[k] == info[i].id;
        CHECK(known);
    }
    CHECK_EQ(gated, N);
    CHECK_EQ(held, N * 1000 + N * (N - 1) / 2);
    for (int i = 0; i < N; i++)
        for (int k = i + 1; k < N; k++) CHECK(ids[i] != ids[k]);
    rt_chan_close(gate);
    rt_wg_wait(wg, NULL);
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 5000));
    CHECK_EQ(atomic_load(&c->exited_total), spawned0 + N - 1); /* all but main */
    rt_wg_free(wg);
    rt_chan_free(gate);
}

static void nop(void *p)
{
    (void)p;
}

/* A snapshot lists each task once: its ids (sorted here) are unique. */
static void check_each_task_once(uint64_t *ids, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && ids[k - 1] > ids[k]; k--) {
            uint64_t x = ids[k];
            ids[k] = ids[k - 1];
            ids[k - 1] = x;
        }
    for (size_t i = 1; i < n; i++)
        if (ids[i - 1] == ids[i]) {
            CHECK(ids[i - 1] != ids[i]);
            break;
        }
}

/* The registry reuses the slots of tasks that exited (task.c): after every
 * other task of a crowd has left and a new crowd has come in, a snapshot
 * still lists exactly the live tasks, each once. */
typedef struct {
    rt_chan *gate;
    rt_wg *wg;
} slot_job;

static void wait_for_gate(void *p)
{
    slot_job *j = p;
    void *v;
    rt_chan_recv(j->gate, &v, NULL);
    rt_wg_done(j->wg);
}

RT_TEST(snapshot_after_slots_are_reused)
{
    enum { N = 800 }; /* 1,600 live: more than the registry's first 1,024 slots */
    rt_chan *gate[2] = {rt_chan_new(0), rt_chan_new(0)};
    rt_wg *wg = rt_wg_new();
    slot_job jobs[2] = {{gate[0], wg}, {gate[1], wg}};
    uint64_t *ids = calloc(3 * N, sizeof *ids);
    rt_wg_add(wg, 2 * N);
    for (int i = 0; i < 2 * N; i++) CHECK_ERR(rt_go("crowd", wait_for_gate, &jobs[i % 2]), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_RECV) == 2 * N, 10000));
    for (int i = 0; i < N; i++) CHECK_ERR(rt_chan_send(gate[0], NULL, NULL), 0); /* half leave */
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == N + 1, 10000));
    rt_wg_add(wg, N);
    for (int i = 0; i < N; i++) CHECK_ERR(rt_go("crowd", wait_for_gate, &jobs[1]), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_RECV) == 2 * N, 10000));

    rt_task_info *info = calloc(3 * N, sizeof *info);
    size_t n = rt_snapshot(info, 3 * N);
    CHECK_EQ(n, 2 * N + 1);
    CHECK_EQ(rt_snapshot(NULL, 0), 2 * N + 1);
    size_t crowd = 0;
    for (size_t i = 0; i < n && i < 3 * N; i++) {
        if (strcmp(info[i].role, "crowd") != 0) continue;
        CHECK_EQ(info[i].op, RT_OP_RECV);
        ids[crowd++] = info[i].id;
    }
    CHECK_EQ(crowd, 2 * N);
    check_each_task_once(ids, crowd);
    CHECK_ERR(rt_chan_close(gate[1]), 0);
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 10000));
    CHECK_EQ(rt_snapshot(NULL, 0), 1);
    rt_wg_wait(wg, NULL);
    rt_wg_free(wg);
    rt_chan_free(gate[0]);
    rt_chan_free(gate[1]);
    free(info);
    free(ids);
}

/* Snapshots taken while tasks spawn and exit as fast as they can: on the
 * coroutine scheduler a finished task's header stays in the registry,
 * dead, and the next task in it comes back to life there (task.c), so
 * this is the race between a snapshot and a header being reset and
 * reused (TSan runs it).  Every entry must be a live task of a known
 * role, each once, and the last snapshot must find main alone. */
typedef struct {
    _Atomic bool stop;
    rt_wg *done;
} churn_job;

static void churn_spawner(void *p)
{
    churn_job *j = p;
    while (!atomic_load(&j->stop)) {
        for (int i = 0; i < 64; i++) rt_go("churn", nop, NULL);
        do rt_yield(); /* let them run: a bounded crowd */
        while (rt_live_tasks() > 1000 && !atomic_load(&j->stop));
    }
    rt_wg_done(j->done);
}

RT_TEST(snapshots_while_tasks_churn)
{
    enum { SPAWNERS = 2, MAX = 4096 };
    const int rounds = RT_TEST_SANITIZED ? 40 : 300; /* a snapshot is slow under TSan */
    churn_job j = {.done = rt_wg_new()};
    rt_wg_add(j.done, SPAWNERS);
    for (int i = 0; i < SPAWNERS; i++) CHECK_ERR(rt_go("spawner", churn_spawner, &j), 0);
    rt_task_info *info = calloc(MAX, sizeof *info);
    uint64_t *ids = calloc(MAX, sizeof *ids);
    for (int round = 0; round < rounds; round++) {
        size_t n = rt_snapshot(info, MAX);
        if (n > MAX) n = MAX;
        size_t mains = 0;
        for (size_t i = 0; i < n; i++) {
            const char *r = info[i].role;
            CHECK(!strcmp(r, "main") || !strcmp(r, "spawner") || !strcmp(r, "churn"));
            CHECK((int)info[i].op >= 0 && info[i].op < RT_OP_COUNT);
            CHECK(info[i].id != 0);
            mains += !strcmp(r, "main");
            ids[i] = info[i].id;
        }
        CHECK_EQ(mains, 1);
        check_each_task_once(ids, n);
        rt_yield();
    }
    atomic_store(&j.stop, true);
    rt_wg_wait(j.done, NULL);
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 10000));
    CHECK_EQ(rt_snapshot(NULL, 0), 1);
    rt_wg_free(j.done);
    free(info);
    free(ids);
}

RT_TEST(spawn_misuse)
{
    CHECK_ERR(rt_go("x", NULL, NULL), -EINVAL);
    CHECK_ERR(rt_go(NULL, nop, NULL), 0); /* a NULL role is allowed */
    rt_yield();
}

/* rt_run with a counters page in shared memory, as the harness does. */
static void count_main(void *p)
{
    (void)p;
    for (int i = 0; i < 5; i++) rt_go("nop", nop, NULL);
    while (rt_live_tasks() > 1) rt_sleep(RT_MS(1), NULL);
}

static void shared_counters_page(void **state)
{
    (void)state;
    rt_counters *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(page != MAP_FAILED);
    rt_config cfg = rt_test_config();
    cfg.counters = page;
    assert_int_equal(rt_run(&cfg, count_main, NULL), 0);
    assert_int_equal(atomic_load(&page->live_tasks), 0);
    assert_int_equal(atomic_load(&page->spawned_total), 6);
    assert_int_equal(atomic_load(&page->exited_total), 6);
    assert_int_equal(atomic_load(&page->by_op[RT_OP_RUNNING]), 0);
    munmap(page, 4096);
}

/* A run whose stack size differs from the run before makes the coroutine
 * scheduler unmap its stack regions, where the finished tasks' headers
 * (still in the registry) live: it must drop them from the registry
 * first, or the next snapshot reads unmapped memory. */
static void snapshot_main(void *p)
{
    size_t *seen = p;
    for (int i = 0; i < 200; i++) rt_go("nop", nop, NULL);
    while (rt_live_tasks() > 1) rt_sleep(RT_MS(1), NULL);
    *seen = rt_snapshot(NULL, 0);
}

static void snapshot_after_stack_size_changes(void **state)
{
    (void)state;
    rt_config cfg = rt_test_config();
    size_t sizes[] = {64 * 1024, 128 * 1024, 64 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        cfg.stack_size = sizes[i];
        size_t seen = 0;
        assert_int_equal(rt_run(&cfg, snapshot_main, &seen), 0);
        assert_int_equal(seen, 1); /* main alone */
    }
}

static void run_errors(void **state)
{
    (void)state;
    rt_config bad = {.sched = (rt_sched_kind)9};
    assert_int_equal(rt_run(&bad, nop, NULL), -EINVAL);
    assert_int_equal(rt_run(NULL, NULL, NULL), -EINVAL);
    assert_int_equal(rt_run(NULL, nop, NULL), 0); /* NULL config = defaults */
    assert_null(rt_self());
}

/* A child forked by a process that already ran the runtime (so it has a
 * timer thread the child does not inherit) still gets working deadlines. */
static void __attribute__((unused)) deadline_main(void *p)
{
    int *rc = p;
    rt_ctx *t = rt_ctx_with_timeout(NULL, RT_MS(20));
    rt_chan *never = rt_chan_new(0);
    void *v;
    *rc = rt_chan_recv(never, &v, t);
    rt_chan_free(never);
    rt_ctx_release(t);
}

#ifndef LEAKBENCH_TSAN
/* The threads of this process, from /proc/self/task. */
static int own_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}
#endif

static void deadlines_work_after_fork(void **state)
{
    (void)state;
#ifdef LEAKBENCH_TSAN
    /* The reason line is what scripts/run-tests requires of every skip. */
    printf("skip reason: deadlines_work_after_fork: TSan does not support threads started "
           "after fork\n");
    skip();
#else
    rt_config cfg = rt_test_config();
    int rc = 0;
    assert_int_equal(rt_run(&cfg, deadline_main, &rc), 0);
    assert_int_equal(rc, -ETIMEDOUT);
    /* Fork only once the threads of the runs before have gone (bounded):
     * ASan's allocator is not fork-safe, and a thread still exiting,
     * holding its lock at the fork, left the child's first allocation
     * waiting for ever (3 runs in 36 at a load average of 150). */
    for (int i = 0; i < 5000 && own_threads() > 1; i++) usleep(1000);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        int crc = 0;
        int r = rt_run(&cfg, deadline_main, &crc);
        _exit(r == 0 && crc == -ETIMEDOUT ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

static void names(void **state)
{
    (void)state;
    rt_sched_kind k;
    assert_int_equal(rt_sched_parse("threads", &k), 0);
    assert_int_equal(k, RT_SCHED_THREADS);
    assert_int_equal(rt_sched_parse("coroutines", &k), 0);
    assert_int_equal(k, RT_SCHED_COROUTINES);
    assert_int_equal(rt_sched_parse("fibers", &k), -EINVAL);
    assert_int_equal(rt_sched_parse(NULL, &k), -EINVAL);
    assert_string_equal(rt_sched_name(RT_SCHED_COROUTINES), "coroutines");
    assert_string_equal(rt_op_name(RT_OP_SELECT), "select");
    assert_string_equal(rt_op_name(RT_OP_JOIN), "join");
    assert_string_equal(rt_op_name(RT_OP_COUNT), "unknown");
    for (int op = 0; op < RT_OP_COUNT; op++) assert_string_not_equal(rt_op_name(op), "unknown");
    assert_string_equal(rt_strerror(-EPIPE), "channel closed");
    assert_string_equal(rt_strerror(-ECANCELED), "context cancelled");
    assert_string_equal(rt_strerror(-ETIMEDOUT), "deadline exceeded");
    assert_string_equal(rt_strerror(-12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(live_tasks_and_snapshot),
        cmocka_unit_test(snapshot_after_slots_are_reused),
        cmocka_unit_test(snapshots_while_tasks_churn),
        cmocka_unit_test(spawn_misuse),
        cmocka_unit_test(shared_counters_page),
        cmocka_unit_test(snapshot_after_stack_size_changes),
        cmocka_unit_test(run_errors),
        cmocka_unit_test(deadlines_work_after_fork),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
