/*
 * sched_coro_test.c — tests of the scheduler seam (rt_sched.h) and of what
 * is particular to the coroutine scheduler (sched_coro.c).
 *
 * Each test runs rt_run with the coroutine scheduler and drives the seam
 * directly from inside tasks: park/unpark permits, deadlines, unpark from a
 * thread that is not a task, timers, yield, 50,000 blocked tasks, tasks
 * spread over several workers, deep stacks trimmed when their slot is
 * freed, the stack canary and the debug guard pages (checked in child
 * processes: this program re-executes itself with --overflow-child, which
 * must abort naming sched_coro.c, and --guard-child, which must die of
 * SIGSEGV).  The seam tests hold on either
 * scheduler; test_seam_rules_on_threads runs them on the thread scheduler,
 * all the others on coroutines, whatever LEAKBENCH_SCHED says (so
 * `make test` runs this program in its coroutines matrix only).
 * Every test has an alarm() time limit.  Checks inside tasks use CHECK
 * (rt_test_util.h): cmocka's asserts must not longjmp off a coroutine.
 */
#include "rt_sched.h"
#include "rt_test_util.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

/* White-box hook in sched_coro.c: a coroutine task's stack and canary. */
int rt__coro_stack_info(const rt_task *t, void **lo, void **top, void **canary);

static int setup_alarm(void **state)
{
    (void)state;
    alarm(120);
    return 0;
}

static rt_config coro_config(int workers)
{
    rt_config cfg = {0};
    cfg.sched = RT_SCHED_COROUTINES;
    cfg.workers = workers;
    cfg.seed = 1;
    return cfg;
}

typedef struct main_call {
    void (*fn)(void *);
    void *arg;
} main_call;

/* Runs the test's main, then waits (up to 10 s) for the tasks it started
 * to finish returning: a task that has signalled "done" may not have left
 * the runtime yet. */
static void main_wrapper(void *p)
{
    main_call *mc = p;
    mc->fn(mc->arg);
    rt_time until = rt_now() + RT_MS(10000);
    while (rt_live_tasks() > 1 && rt_now() < until) rt_sleep(RT_MS(1), NULL);
}

/* Runs fn as main on cfg's scheduler and fails the test on any CHECK that
 * failed inside. */
static void run_with(rt_config cfg, void (*fn)(void *), void *arg)
{
    main_call mc = {fn, arg};
    rt_test_failures = 0;
    rt_test_failure[0] = 0;
    assert_int_equal(rt_run(&cfg, main_wrapper, &mc), 0);
    assert_int_equal(rt_live_tasks(), 0);
    if (rt_test_failures) fail_msg("%s (%d failed checks)", rt_test_failure, rt_test_failures);
}

/* Runs fn as main on the coroutine scheduler (whatever LEAKBENCH_SCHED
 * says: this program tests the coroutine scheduler). */
static void run_on(int workers, void (*fn)(void *), void *arg)
{
    run_with(coro_config(workers), fn, arg);
}

/* Spins (yielding) until *flag reaches want, at most 10 s. */
static void wait_for(_Atomic int64_t *flag, int64_t want)
{
    rt_time until = rt_now() + RT_MS(10000);
    while (atomic_load(flag) < want && rt_now() < until) rt__sched->yield();
}

/* ------------------------------------------------------------ permits -- */

static _Atomic int64_t result_code;

static void permit_main(void *arg)
{
    (void)arg;
    rt_task *self = rt_self();
    CHECK((self) != NULL);
    /* An unpark before the park is remembered ... */
    rt__sched->unpark(self);
    rt_time t0 = rt_now();
    int rc = rt__sched->park(t0 + RT_MS(5000));
    CHECK_EQ(rc, 0);
    CHECK(rt_now() - t0 < RT_MS(1000));
    /* ... once: the next park waits for its deadline. */
    rc = rt__sched->park(rt_now() + RT_MS(20));
    CHECK_EQ(rc, -ETIMEDOUT);
    /* Two unparks still leave only one permit. */
    rt__sched->unpark(self);
    rt__sched->unpark(self);
    CHECK_EQ(rt__sched->park(rt_now() + RT_MS(5000)), 0);
    CHECK_EQ(rt__sched->park(rt_now() + RT_MS(10)), -ETIMEDOUT);
    atomic_store(&result_code, 1);
}

static void test_permit_is_remembered_once(void **state)
{
    (void)state;
    atomic_store(&result_code, 0);
    run_on(2, permit_main, NULL);
    assert_int_equal(atomic_load(&result_code), 1);
}

/* The same seam rules on the thread scheduler.  Named here rather than
 * taken from LEAKBENCH_SCHED, so that `make test` runs this program once
 * per sanitizer variant (in its coroutines matrix) and still covers both
 * schedulers' seams. */
static void deadline_main(void *arg);
static void test_seam_rules_on_threads(void **state)
{
    (void)state;
    rt_config cfg = {.sched = RT_SCHED_THREADS, .seed = 1};
    atomic_store(&result_code, 0);
    run_with(cfg, permit_main, NULL);
    assert_int_equal(atomic_load(&result_code), 1);
    atomic_store(&result_code, 0);
    run_with(cfg, deadline_main, NULL);
    assert_int_equal(atomic_load(&result_code), 1);
}

/* ----------------------------------------------------------- deadlines -- */

static void deadline_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++) {
        rt_time t0 = rt_now();
        rt_time deadline = t0 + RT_MS(15);
        int rc;
        do rc = rt__sched->park(deadline); /* spurious wake-ups are allowed */
        while (rc == 0);
        rt_time late = rt_now() - deadline;
        CHECK_EQ(rc, -ETIMEDOUT);
        CHECK(late >= 0);
        CHECK(late < RT_MS(200));
    }
    /* A deadline already passed returns at once. */
    CHECK_EQ(rt__sched->park(rt_now() - 1), -ETIMEDOUT);
    atomic_store(&result_code, 1);
}

static void test_park_deadline(void **state)
{
    (void)state;
    atomic_store(&result_code, 0);
    run_on(1, deadline_main, NULL);
    assert_int_equal(atomic_load(&result_code), 1);
}

/* ------------------------------------------------ unpark from a thread -- */

typedef struct foreign_arg {
    rt_task *target;
    _Atomic int64_t parked; /* the target is about to park */
    _Atomic int64_t woken;  /* the target's park returned */
} foreign_arg;

static void *foreign_thread(void *p)
{
    foreign_arg *fa = p;
    while (atomic_load(&fa->parked) == 0) sched_yield();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    rt__sched->unpark(fa->target);
    return NULL;
}

static void foreign_main(void *arg)
{
    foreign_arg *fa = arg;
    fa->target = rt_self();
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, foreign_thread, fa), 0);
    atomic_store(&fa->parked, 1);
    rt_time t0 = rt_now();
    int rc = rt__sched->park(t0 + RT_MS(10000));
    CHECK_EQ(rc, 0);
    CHECK(rt_now() - t0 < RT_MS(5000));
    atomic_store(&fa->woken, 1);
    pthread_join(th, NULL);
}

static void test_unpark_from_non_task_thread(void **state)
{
    (void)state;
    foreign_arg fa = {0};
    run_on(2, foreign_main, &fa);
    assert_int_equal(atomic_load(&fa.woken), 1);
}

/* ----------------------------------------------------- ping-pong / ring -- */

enum { RING_TASKS = 200, RING_LAPS = 200 };

typedef struct ring {
    rt_task *tasks[RING_TASKS];
    _Atomic int64_t token_at; /* index of the task holding the token */
    _Atomic int64_t passes;
    _Atomic int64_t started, finished;
} ring;

typedef struct ring_member {
    ring *r;
    int index;
} ring_member;

static void ring_task(void *p)
{
    ring_member *m = p;
    ring *r = m->r;
    r->tasks[m->index] = rt_self();
    atomic_fetch_add(&r->started, 1);
    for (int lap = 0; lap < RING_LAPS; lap++) {
        while (atomic_load(&r->token_at) != m->index) rt__sched->park(RT_FOREVER);
        int next = (m->index + 1) % RING_TASKS;
        atomic_fetch_add(&r->passes, 1);
        atomic_store(&r->token_at, next);
        rt__sched->unpark(r->tasks[next]);
    }
    atomic_fetch_add(&r->finished, 1);
}

static void ring_main(void *arg)
{
    ring *r = arg;
    static ring_member members[RING_TASKS];
    atomic_store(&r->token_at, -1);
    for (int i = 0; i < RING_TASKS; i++) {
        members[i] = (ring_member){r, i};
        CHECK_EQ(rt_go("ring", ring_task, &members[i]), 0);
    }
    wait_for(&r->started, RING_TASKS);
    atomic_store(&r->token_at, 0);
    rt__sched->unpark(r->tasks[0]);
    wait_for(&r->finished, RING_TASKS);
}

static void test_token_ring_every_pass_once(void **state)
{
    (void)state;
    for (int workers = 1; workers <= 3; workers++) {
        ring *r = calloc(1, sizeof *r);
        run_on(workers, ring_main, r);
        assert_int_equal(atomic_load(&r->finished), RING_TASKS);
        assert_int_equal(atomic_load(&r->passes), (int64_t)RING_TASKS * RING_LAPS);
        free(r);
    }
}

/* --------------------------------------------------------------- timers -- */

typedef struct timer_probe {
    _Atomic int64_t fired;
    rt_task *wake;
    rt_timer *self_stop; /* stopped from inside its own callback */
    _Atomic int64_t self_stop_result;
} timer_probe;

static void probe_cb(void *p)
{
    timer_probe *tp = p;
    atomic_fetch_add(&tp->fired, 1);
    if (tp->wake) rt__sched->unpark(tp->wake);
}

static void self_stop_cb(void *p)
{
    timer_probe *tp = p;
    rt_timer *tm;
    while (!(tm = __atomic_load_n(&tp->self_stop, __ATOMIC_ACQUIRE))) sched_yield();
    atomic_store(&tp->self_stop_result, tm ? (rt__sched->timer_stop(tm) ? 1 : 2) : 3);
    atomic_fetch_add(&tp->fired, 1);
    rt__sched->unpark(tp->wake);
}

static void timers_main(void *arg)
{
    (void)arg;
    timer_probe a = {0}, b = {0}, c = {0};
    a.wake = rt_self();
    /* Fires and wakes us. */
    rt_time t0 = rt_now();
    rt_timer *ta = rt__sched->timer_start(t0 + RT_MS(20), probe_cb, &a);
    CHECK((ta) != NULL);
    /* Stopped before it fires: never runs. */
    rt_timer *tb = rt__sched->timer_start(t0 + RT_MS(40), probe_cb, &b);
    CHECK((tb) != NULL);
    CHECK(rt__sched->timer_stop(tb));
    while (atomic_load(&a.fired) == 0) rt__sched->park(t0 + RT_MS(5000));
    CHECK(rt_now() - t0 >= RT_MS(20));
    CHECK(!(rt__sched->timer_stop(ta))); /* already ran */
    /* Many timers fire in deadline order of their expiry. */
    enum { MANY = 300 };
    static timer_probe many[MANY];
    rt_timer *tms[MANY];
    for (int i = 0; i < MANY; i++) {
        memset(&many[i], 0, sizeof many[i]);
        tms[i] = rt__sched->timer_start(rt_now() + RT_MS(1 + (i * 7) % 30), probe_cb, &many[i]);
        CHECK((tms[i]) != NULL);
    }
    rt_time until = rt_now() + RT_MS(5000);
    for (;;) {
        int n = 0;
        for (int i = 0; i < MANY; i++) n += (int)atomic_load(&many[i].fired);
        if (n == MANY || rt_now() > until) break;
        rt__sched->park(rt_now() + RT_MS(5));
    }
    for (int i = 0; i < MANY; i++) {
        CHECK_EQ(atomic_load(&many[i].fired), 1);
        CHECK(!(rt__sched->timer_stop(tms[i])));
    }
    /* timer_stop from inside the callback. */
    c.wake = rt_self();
    rt_timer *tc = rt__sched->timer_start(rt_now() + RT_MS(5), self_stop_cb, &c);
    __atomic_store_n(&c.self_stop, tc, __ATOMIC_RELEASE);
    while (atomic_load(&c.fired) == 0) rt__sched->park(rt_now() + RT_MS(100));
    CHECK_EQ(atomic_load(&c.self_stop_result), 2); /* false: it is running */
    CHECK_EQ(atomic_load(&b.fired), 0);
    atomic_store(&result_code, 1);
}

static void test_timers_fire_and_stop(void **state)
{
    (void)state;
    atomic_store(&result_code, 0);
    run_on(2, timers_main, NULL);
    assert_int_equal(atomic_load(&result_code), 1);
}

/* ---------------------------------------------------------------- yield -- */

enum { YIELDERS = 4, YIELD_ROUNDS = 100 };
static int yield_trace[YIELDERS * YIELD_ROUNDS];
static _Atomic int64_t yield_len, yield_done;

static void yielder(void *p)
{
    int id = (int)(intptr_t)p;
    for (int i = 0; i < YIELD_ROUNDS; i++) {
        yield_trace[atomic_fetch_add(&yield_len, 1)] = id;
        rt__sched->yield();
    }
    atomic_fetch_add(&yield_done, 1);
}

static void yield_main(void *arg)
{
    (void)arg;
    for (intptr_t i = 0; i < YIELDERS; i++) CHECK_EQ(rt_go("yielder", yielder, (void *)i), 0);
    wait_for(&yield_done, YIELDERS);
}

static void test_yield_round_robin_on_one_worker(void **state)
{
    (void)state;
    atomic_store(&yield_len, 0);
    atomic_store(&yield_done, 0);
    run_on(1, yield_main, NULL);
    assert_int_equal(atomic_load(&yield_len), YIELDERS * YIELD_ROUNDS);
    /* One worker: the yielders take turns, so no task runs twice in a row
     * while others are runnable (checked over the middle of the trace). */
    for (int i = YIELDERS; i < YIELDERS * (YIELD_ROUNDS - 1); i++)
        assert_int_not_equal(yield_trace[i], yield_trace[i - 1]);
}

/* ----------------------------------------------------- 50,000 blocked -- */

#ifdef LEAKBENCH_TSAN
enum { MANY_TASKS = 4000 }; /* each fiber is a TSan thread; TSan stops at 8128 */
#else
enum { MANY_TASKS = 50000 };
#endif
static _Atomic int64_t many_parked, many_exited;
static _Atomic int64_t many_release;

static void blocked_task(void *p)
{
    (void)p;
    atomic_fetch_add(&many_parked, 1);
    while (atomic_load(&many_release) == 0) rt__sched->park(RT_FOREVER);
    atomic_fetch_add(&many_exited, 1);
}

static rt_task **many_handles;
static void record_blocked_task(void *p)
{
    many_handles[(intptr_t)p] = rt_self();
    blocked_task(p);
}

static void many_main(void *arg)
{
    (void)arg;
    for (intptr_t i = 0; i < MANY_TASKS; i++)
        CHECK_EQ(rt_go("blocked", record_blocked_task, (void *)i), 0);
    wait_for(&many_parked, MANY_TASKS);
    CHECK_EQ(atomic_load(&many_parked), MANY_TASKS);
    /* Let every task reach its park. */
    for (int i = 0; i < 100; i++) rt__sched->yield();
    atomic_store(&many_release, 1);
    for (int i = 0; i < MANY_TASKS; i++) rt__sched->unpark(many_handles[i]);
    wait_for(&many_exited, MANY_TASKS);
}

static void test_fifty_thousand_blocked_tasks(void **state)
{
    (void)state;
    many_handles = calloc(MANY_TASKS, sizeof *many_handles);
    atomic_store(&many_parked, 0);
    atomic_store(&many_exited, 0);
    atomic_store(&many_release, 0);
    run_on(2, many_main, NULL);
    assert_int_equal(atomic_load(&many_exited), MANY_TASKS);
    free(many_handles);
}

/* ------------------------------------------------------ several workers -- */

enum { SPREAD_TASKS = 8 };
static pthread_t spread_threads[SPREAD_TASKS];
static _Atomic int64_t spread_started, spread_done;

static void spread_task(void *p)
{
    intptr_t i = (intptr_t)p;
    spread_threads[i] = pthread_self();
    atomic_fetch_add(&spread_started, 1);
    /* Busy without yielding until a second task has started (at most
     * 10 s): while this worker is held, only the other worker can. */
    rt_time until = rt_now() + RT_MS(10000);
    while (atomic_load(&spread_started) < 2 && rt_now() < until) {
    }
    atomic_fetch_add(&spread_done, 1);
}

static void spread_main(void *arg)
{
    (void)arg;
    for (intptr_t i = 0; i < SPREAD_TASKS; i++)
        CHECK_EQ(rt_go("spread", spread_task, (void *)i), 0);
    wait_for(&spread_done, SPREAD_TASKS);
}

static void test_work_spreads_over_workers(void **state)
{
    (void)state;
    atomic_store(&spread_started, 0);
    atomic_store(&spread_done, 0);
    run_on(2, spread_main, NULL);
    assert_int_equal(atomic_load(&spread_done), SPREAD_TASKS);
    /* The first two ran at the same time: on two worker threads. */
    int distinct = 1;
    for (int i = 1; i < SPREAD_TASKS; i++)
        if (!pthread_equal(spread_threads[i], spread_threads[0])) distinct = 2;
    assert_int_equal(distinct, 2);
}

/* ------------------------------------------ timers outliving a run -- */

enum { TIMER_OWNERS = 3 };
static _Atomic int64_t owners_started, owners_done, orphan_fired;
static pthread_t owner_threads[TIMER_OWNERS];
static rt_timer *orphan_timers[TIMER_OWNERS];

static void count_fired(void *p)
{
    (void)p;
    atomic_fetch_add(&orphan_fired, 1);
}

static void timer_owner(void *p)
{
    intptr_t i = (intptr_t)p;
    owner_threads[i] = pthread_self();
    atomic_fetch_add(&owners_started, 1);
    /* Hold this worker until all three run at once, one per worker. */
    rt_time until = rt_now() + RT_MS(10000);
    while (atomic_load(&owners_started) < TIMER_OWNERS && rt_now() < until) {
    }
    orphan_timers[i] = rt__sched->timer_start(rt_now() + RT_MS(1000), count_fired, NULL);
    atomic_fetch_add(&owners_done, 1);
}

static void owners_main(void *arg)
{
    (void)arg;
    for (intptr_t i = 0; i < TIMER_OWNERS; i++) CHECK_EQ(rt_go("owner", timer_owner, (void *)i), 0);
    wait_for(&owners_done, TIMER_OWNERS);
}

static void orphans_main(void *arg)
{
    (void)arg;
    rt_time until = rt_now() + RT_MS(5000);
    while (atomic_load(&orphan_fired) < TIMER_OWNERS && rt_now() < until) rt_sleep(RT_MS(5), NULL);
    for (int i = 0; i < TIMER_OWNERS; i++) CHECK(!rt__sched->timer_stop(orphan_timers[i]));
}

/* Timers started on three workers fire in a later run on one worker. */
static void test_timers_outlive_a_run_with_more_workers(void **state)
{
    (void)state;
    atomic_store(&owners_started, 0);
    atomic_store(&owners_done, 0);
    atomic_store(&orphan_fired, 0);
    run_on(TIMER_OWNERS, owners_main, NULL);
    for (int i = 0; i < TIMER_OWNERS; i++) assert_non_null(orphan_timers[i]);
    for (int i = 0; i < TIMER_OWNERS; i++)
        for (int j = 0; j < i; j++) assert_false(pthread_equal(owner_threads[i], owner_threads[j]));
    run_on(1, orphans_main, NULL);
    assert_int_equal(atomic_load(&orphan_fired), TIMER_OWNERS);
}

/* ---------------------------------------------------- repeated rt_run -- */

static void nothing_main(void *arg)
{
    (void)arg;
}

static void test_rt_run_again_with_other_geometry(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        rt_config cfg = coro_config(1 + i);
        cfg.stack_size = (size_t)(32 + 32 * i) * 1024;
        cfg.debug_guard_pages = i == 1;
        assert_int_equal(rt_run(&cfg, nothing_main, NULL), 0);
    }
    rt_config bad = coro_config(-1);
    assert_int_equal(rt_run(&bad, nothing_main, NULL), -EINVAL);
}

/* ------------------------------------------------- deep stacks trimmed -- */

typedef struct deep_probe {
    void *lo, *top;
    _Atomic int64_t done;
    int64_t resident_deep_pages; /* -1 until measured */
    bool same_slot;
} deep_probe;

static void deep_task(void *p)
{
    deep_probe *dp = p;
    void *canary;
    rt__coro_stack_info(rt_self(), &dp->lo, &dp->top, &canary);
    volatile char big[64 * 1024]; /* 64 KiB deep into a 128 KiB stack */
    memset((char *)big, 0x5A, sizeof big);
    atomic_store(&dp->done, 1);
}

static void shallow_task(void *p)
{
    deep_probe *dp = p;
    void *lo, *top, *canary;
    rt__coro_stack_info(rt_self(), &lo, &top, &canary);
    dp->same_slot = lo == dp->lo && top == dp->top;
    /* Pages more than 16 KiB below the top must have been given back. */
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    char *start = lo, *end = (char *)(((uintptr_t)top - 16 * 1024) & ~(uintptr_t)(ps - 1));
    size_t npages = (size_t)(end - start) / ps;
    unsigned char *vec = calloc(npages, 1);
    int64_t resident = -1;
    if (vec && mincore(start, (size_t)(end - start), vec) == 0) {
        resident = 0;
        for (size_t i = 0; i < npages; i++) resident += vec[i] & 1;
    }
    free(vec);
    dp->resident_deep_pages = resident;
    atomic_store(&dp->done, 2);
}

static void deep_main(void *arg)
{
    deep_probe *dp = arg;
    CHECK_EQ(rt_go("deep", deep_task, dp), 0);
    wait_for(&dp->done, 1);
    rt__sched->yield(); /* the deep task's slot is freed once it switched away */
    CHECK_EQ(rt_go("shallow", shallow_task, dp), 0);
    wait_for(&dp->done, 2);
}

static void test_deep_stack_pages_returned_on_free(void **state)
{
    (void)state;
    deep_probe dp = {.resident_deep_pages = -1};
    rt_config cfg = coro_config(1);
    cfg.stack_size = 128 * 1024;
    rt_test_failures = 0;
    assert_int_equal(rt_run(&cfg, deep_main, &dp), 0);
    if (rt_test_failures) fail_msg("%s", rt_test_failure);
    assert_int_equal(atomic_load(&dp.done), 2);
    assert_true(dp.same_slot); /* one worker: the freed slot is reused first */
    assert_int_equal(dp.resident_deep_pages, 0);
}

/* ------------------------------------------------------- stack canary -- */

static void overflow_task(void *arg)
{
    (void)arg;
    void *lo, *top, *canary;
    if (rt__coro_stack_info(rt_self(), &lo, &top, &canary) != 0) _exit(3);
    if ((char *)canary > (char *)lo || (char *)canary < (char *)lo - 8) _exit(7);
    /* What an overflow does just below the stack; the next switch must
     * notice. */
    memset(canary, 0xAB, 8);
    rt__sched->park(rt_now() + RT_MS(1));
    _exit(4); /* not reached when the canary check works */
}

static void overflow_main(void *arg)
{
    (void)arg;
    if (rt_go("overflow", overflow_task, NULL) != 0) _exit(2);
    rt__sched->park(RT_FOREVER);
}

static int overflow_child(void)
{
    rt_config cfg = coro_config(1);
    rt_run(&cfg, overflow_main, NULL);
    return 5;
}

/* A real overflow: recursion with 1 KiB frames, 100 KiB through a 64 KiB
 * stack.  The slots below it belong to 40 parked tasks, so without the
 * guard page the recursion would scribble over mapped memory and return
 * (exit 4 or a canary abort) instead of dying of SIGSEGV. */
static int recurse(int n)
{
    volatile char frame[1024];
    memset((char *)frame, n, sizeof frame);
    return n > 0 ? recurse(n - 1) + frame[7] : frame[3];
}

static void guard_task(void *arg)
{
    (void)arg;
    recurse(100);
    _exit(4); /* not reached: the guard page stops the recursion */
}

static void parked_forever(void *arg)
{
    (void)arg;
    rt__sched->park(RT_FOREVER);
}

static void guard_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 40; i++)
        if (rt_go("filler", parked_forever, NULL) != 0) _exit(2);
    if (rt_go("guarded", guard_task, NULL) != 0) _exit(2);
    rt__sched->park(RT_FOREVER);
}

static int guard_child(void)
{
    rt_config cfg = coro_config(1);
    cfg.stack_size = 64 * 1024;
    cfg.debug_guard_pages = true;
    rt_run(&cfg, guard_main, NULL);
    return 5;
}

/* Runs this program with `arg` in a child; returns its wait status and its
 * stderr in buf. */
static int run_child(const char *arg, char *buf, size_t size)
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        execl("/proc/self/exe", "sched_coro_test", arg, (char *)NULL);
        _exit(6);
    }
    close(pipefd[1]);
    size_t len = 0;
    ssize_t n;
    while (len < size - 1 && (n = read(pipefd[0], buf + len, size - 1 - len)) > 0) len += (size_t)n;
    buf[len] = '\0';
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_guard_page_stops_a_real_overflow(void **state)
{
    (void)state;
    char buf[8192];
    int status = run_child("--guard-child", buf, sizeof buf);
#if defined(LEAKBENCH_ASAN) || defined(LEAKBENCH_TSAN)
    /* The sanitizer's SEGV handler reports it and exits non-zero. */
    assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
                                        WEXITSTATUS(status) != 4 && WEXITSTATUS(status) != 5));
#else
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
#endif
}

static void test_canary_overwrite_aborts_with_site(void **state)
{
    (void)state;
    char buf[4096];
    int status = run_child("--overflow-child", buf, sizeof buf);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(buf, "sched_coro.c:"));
    assert_non_null(strstr(buf, "canary"));
    assert_non_null(strstr(buf, "sched_coro_test.c:")); /* the task's spawn site */
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--overflow-child") == 0) return overflow_child();
    if (argc > 1 && strcmp(argv[1], "--guard-child") == 0) return guard_child();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_permit_is_remembered_once, setup_alarm),
        cmocka_unit_test_setup(test_park_deadline, setup_alarm),
        cmocka_unit_test_setup(test_seam_rules_on_threads, setup_alarm),
        cmocka_unit_test_setup(test_unpark_from_non_task_thread, setup_alarm),
        cmocka_unit_test_setup(test_token_ring_every_pass_once, setup_alarm),
        cmocka_unit_test_setup(test_timers_fire_and_stop, setup_alarm),
        cmocka_unit_test_setup(test_yield_round_robin_on_one_worker, setup_alarm),
        cmocka_unit_test_setup(test_fifty_thousand_blocked_tasks, setup_alarm),
        cmocka_unit_test_setup(test_work_spreads_over_workers, setup_alarm),
        cmocka_unit_test_setup(test_timers_outlive_a_run_with_more_workers, setup_alarm),
        cmocka_unit_test_setup(test_rt_run_again_with_other_geometry, setup_alarm),
        cmocka_unit_test_setup(test_deep_stack_pages_returned_on_free, setup_alarm),
        cmocka_unit_test_setup(test_canary_overwrite_aborts_with_site, setup_alarm),
        cmocka_unit_test_setup(test_guard_page_stops_a_real_overflow, setup_alarm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
