/*
 * park_test.c — a stress test of the scheduler seam's park/unpark permit
 * (rt_sched.h), on whichever scheduler LEAKBENCH_SCHED names.
 *
 * Two tasks pass a turn back and forth with nothing but park and unpark,
 * like sched_coro_bench's park/unpark floor, which hung on the thread
 * scheduler: a park that found a stale permit pending consumed it with a
 * plain store, so an unpark landing at that moment was wiped without the
 * parker synchronising with it; its re-check could read the turn as not
 * yet passed, and it parked again with no permit left, for ever.
 *
 * Each side waits for its turn by parking with a short deadline.  A park
 * that times out while the turn is already ours, after the peer's unpark
 * for this round has returned, proves nothing by itself (that unpark may
 * have landed just after the deadline), but then its permit must still be
 * pending: a park that had consumed it would have synchronised with it,
 * and its caller would have seen the turn.  So a park with a deadline
 * already passed must return 0; if it times out, the wake-up was lost and
 * the test fails naming the side and round.  The verdict does not depend
 * on timing: the deadline only turns a lost wake-up into a failure instead
 * of a hang.
 *
 * Before each hand-over a side unparks the other a random number of times
 * (0..MAX_NOISE-1, from the seed printed first; LEAKBENCH_SEED replays it
 * as far as the OS's thread scheduling allows).  Spurious unparks are
 * allowed by the seam; they make the waiting side re-enter park with a
 * stale permit while the real hand-over lands, the window of the bug.
 * The race is a matter of nanoseconds, so the test catches it only now
 * and then: without the fix it failed 3 times in about 3.2 M rounds.  It
 * needs the unparker's store of the condition to take the cache line of
 * the permit away from the parker; a standalone copy of the protocol with
 * the condition and the permits in one line hung in 8 of 10 runs of 300 k
 * rounds (0 of 10 with the fix), and with them in separate lines, as here
 * and in the benchmark, in 0 of 6.  Rounds shrink under the sanitizers;
 * LEAKBENCH_STRESS_SCALE multiplies them.
 */
#include "rt_sched.h"
#include "rt_test_util.h"

#if RT_TEST_SANITIZED
#define BASE_ROUNDS 10000
#else
#define BASE_ROUNDS 50000
#endif
#define MAX_NOISE 1024 /* the most spurious unparks before a hand-over */

typedef struct relay {
    rt_task *side[2];
    _Atomic int turn; /* whose turn: 0 or 1 */
    /* Per side: how many hand-over unparks of it (the one after the turn
     * was passed to it) have returned. */
    _Atomic long handovers_returned[2];
    _Atomic bool ready;
    long rounds;
    uint64_t seed;
    _Atomic long lost; /* wake-ups found lost */
    _Atomic long timeouts_checked;
} relay;

/* Waits until it is side me's turn for the round-th time (round from 1). */
static void wait_turn(relay *r, int me, long round)
{
    while (atomic_load(&r->turn) != me) {
        if (rt__sched->park(rt_now() + RT_MS(2)) != -ETIMEDOUT) continue;
        if (atomic_load(&r->turn) != me || atomic_load(&r->handovers_returned[me]) < round)
            continue;
        atomic_fetch_add(&r->timeouts_checked, 1);
        if (rt__sched->park(rt_now()) != 0 && atomic_fetch_add(&r->lost, 1) == 0)
            rt_test_failf(__FILE__, __LINE__,
                          "side %d, round %ld: park timed out after its unpark had returned: "
                          "the wake-up was lost",
                          me, round);
    }
}

/* One side's rounds: wait for the turn, hand it over, wake the other. */
static void relay_side(relay *r, int me)
{
    uint64_t rng = r->seed * 2 + (uint64_t)me + 1;
    int other = 1 - me;
    for (long round = 1; round <= r->rounds; round++) {
        /* Side 1's first turn is given, not handed over: its round-th
         * turn follows round - 1 unparks, side 0's follows round. */
        wait_turn(r, me, me == 0 ? round : round - 1);
        long noise = (long)(rt_test_rand(&rng) % MAX_NOISE);
        for (long i = 0; i < noise; i++) rt__sched->unpark(r->side[other]);
        atomic_store(&r->turn, other);
        rt__sched->unpark(r->side[other]);
        atomic_fetch_add(&r->handovers_returned[other], 1);
    }
}

static void side_one(void *p)
{
    relay *r = p;
    r->side[1] = rt_self();
    atomic_store(&r->ready, true);
    relay_side(r, 1);
    /* Side 0's last hand-over is ours too; its unpark must have returned
     * before this task ends and is freed (the seam's rule: no unpark
     * targets a finished task). */
    wait_turn(r, 1, r->rounds);
    while (atomic_load(&r->handovers_returned[1]) < r->rounds) rt_yield();
}

RT_TEST(token_relay_loses_no_wakeup)
{
    relay r = {.rounds = BASE_ROUNDS * rt_test_env_long("LEAKBENCH_STRESS_SCALE", 1),
               .seed = (uint64_t)rt_test_env_long("LEAKBENCH_SEED", 1)};
    r.side[0] = rt_self();
    atomic_store(&r.turn, 1);
    CHECK_ERR(rt_go("relay-side-1", side_one, &r), 0);
    while (!atomic_load(&r.ready)) rt_yield();
    relay_side(&r, 0);
    CHECK(RT_WAIT_UNTIL(rt_live_tasks() == 1, 10000));
    CHECK_EQ(atomic_load(&r.lost), 0);
    print_message("park: %ld rounds each way, %ld timed-out parks checked, %ld wake-ups lost\n",
                  r.rounds, atomic_load(&r.timeouts_checked), atomic_load(&r.lost));
}

int main(void)
{
    rt_test_seed("park");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_relay_loses_no_wakeup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
