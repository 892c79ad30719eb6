/*
 * payload_test.c — payloads are resident, freed ones are reused up to a
 * bound and the rest are unmapped, and two live payloads never share
 * memory (threads allocating and freeing at once; run under TSan too).
 *
 * How it works.  Residency and mapping are read from the kernel with
 * mincore(2): 0 with the low bit set per resident page, -1/ENOMEM for an
 * address that is not mapped.  The kept list is process-wide, so every
 * test starts by draining it (drain_kept) for the sizes it uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scenario.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* 1: mapped and every page resident; 0: mapped, some page not resident;
 * -1: not mapped. */
static int residency(void *p, size_t n)
{
    size_t pages = (n + page() - 1) / page();
    unsigned char vec[64];
    assert_true(pages <= sizeof vec);
    if (mincore(p, pages * page(), vec) != 0) {
        assert_int_equal(errno, ENOMEM);
        return -1;
    }
    for (size_t i = 0; i < pages; i++)
        if (!(vec[i] & 1)) return 0;
    return 1;
}

/* Takes every kept payload of size n off the list and unmaps it. */
static void drain_kept(size_t n)
{
    void *p[LB_PAYLOAD_KEPT];
    for (int i = 0; i < LB_PAYLOAD_KEPT; i++) p[i] = lb_payload_new(n);
    for (int i = 0; i < LB_PAYLOAD_KEPT; i++) munmap(p[i], (n + page() - 1) / page() * page());
}

static int drain_all(void **state)
{
    (void)state;
    size_t sizes[] = {1, page(), 3 * page(), LB_PAYLOAD_REUSE_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) drain_kept(sizes[i]);
    return 0;
}

static void a_payload_is_resident_and_a_freed_one_is_reused(void **state)
{
    (void)state;
    void *p = lb_payload_new(3 * page());
    assert_non_null(p);
    assert_int_equal(residency(p, 3 * page()), 1);
    lb_payload_free(p, 3 * page());
    assert_int_equal(residency(p, 3 * page()), 1); /* kept, not unmapped */
    /* Any size that rounds to the same pages gets it back. */
    void *q = lb_payload_new(3 * page() - 100);
    assert_ptr_equal(q, p);
    assert_int_equal(residency(q, 3 * page()), 1);
    /* Another size does not. */
    void *r = lb_payload_new(page());
    assert_ptr_not_equal(r, p);
    lb_payload_free(q, 3 * page() - 100);
    lb_payload_free(r, page());
}

static void freed_payloads_beyond_the_bound_are_unmapped(void **state)
{
    (void)state;
    enum { N = LB_PAYLOAD_KEPT + 4 };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = lb_payload_new(page());
        assert_non_null(p[i]);
    }
    for (int i = 0; i < N; i++) lb_payload_free(p[i], page());
    for (int i = 0; i < N; i++)
        assert_int_equal(residency(p[i], page()), i < LB_PAYLOAD_KEPT ? 1 : -1);
}

static void a_large_payload_is_unmapped_at_once(void **state)
{
    (void)state;
    size_t big = LB_PAYLOAD_REUSE_MAX + page();
    void *p = lb_payload_new(big);
    assert_non_null(p);
    assert_int_equal(residency(p, big), 1);
    lb_payload_free(p, big);
    assert_int_equal(residency(p, big), -1);

    void *q = lb_payload_new(LB_PAYLOAD_REUSE_MAX); /* the largest kept */
    lb_payload_free(q, LB_PAYLOAD_REUSE_MAX);
    assert_int_equal(residency(q, LB_PAYLOAD_REUSE_MAX), 1);
}

static void nothing_is_allocated_for_an_empty_payload(void **state)
{
    (void)state;
    assert_null(lb_payload_new(0));
    lb_payload_free(NULL, 0); /* and freeing it is a no-op */
}

/* Each thread fills the payloads it holds with its own byte and checks
 * they still hold it before freeing: a payload handed to two holders at
 * once would show the other's byte. */
#define THREADS 4
#define ROUNDS  3000

static void *churn(void *arg)
{
    unsigned char mine = (unsigned char)(uintptr_t)arg;
    size_t sizes[2] = {page(), 3 * page()};
    for (int r = 0; r < ROUNDS; r++) {
        size_t n = sizes[r % 2];
        unsigned char *a = lb_payload_new(n), *b = lb_payload_new(n);
        if (!a || !b || a == b) return (void *)1;
        memset(a, mine, n);
        memset(b, mine, n);
        sched_yield();
        for (size_t i = 0; i < n; i += 511)
            if (a[i] != mine || b[i] != mine) return (void *)1;
        lb_payload_free(a, n);
        lb_payload_free(b, n);
    }
    return NULL;
}

static void threads_never_share_a_live_payload(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < THREADS; i++) {
        void *bad;
        assert_int_equal(pthread_join(th[i], &bad), 0);
        assert_null(bad);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_payload_is_resident_and_a_freed_one_is_reused, drain_all),
        cmocka_unit_test_setup(freed_payloads_beyond_the_bound_are_unmapped, drain_all),
        cmocka_unit_test_setup(a_large_payload_is_unmapped_at_once, drain_all),
        cmocka_unit_test_setup(nothing_is_allocated_for_an_empty_payload, drain_all),
        cmocka_unit_test_setup(threads_never_share_a_live_payload, drain_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
