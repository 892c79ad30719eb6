/*
 * rt_lock.h — the lock behind every channel (internal to runtime/): spin
 * briefly, then sleep on a futex.
 *
 * Channel critical sections are a few dozen instructions (a ring-buffer
 * slot, a queue link, a compare-and-swap), and the two sides of a busy
 * channel run on two workers at once, so the lock is contended all the
 * time but held for nanoseconds.  glibc's default mutex goes to the kernel
 * (FUTEX_WAIT, then FUTEX_WAKE on unlock) on the first contended attempt:
 * measured on `make bench`'s buffered stream, 1.7 M futex system calls for
 * 15 M channel operations, most of the run's time.  This lock is Drepper's
 * three-state futex mutex ("Futexes are tricky", mutex #2) with a bounded
 * spin in front, as Go's runtime lock does:
 *   word 0: free; 1: held, nobody sleeps; 2: held, a waiter may sleep.
 * Acquire: CAS 0 -> 1; else spin up to RT__LOCK_SPIN rounds waiting to see
 * 0 (and CAS it), then swap in 2 and FUTEX_WAIT while the swap returned
 * non-zero.  Release: swap in 0 and FUTEX_WAKE one waiter if it was 2.
 * The fast paths are inline; the slow ones live in lock.c.
 *
 * Sleeping matters on the thread scheduler (a holder preempted by the OS
 * would otherwise make everybody spin) and costs nothing when uncontended.
 * Memory order: acquire on taking, release on giving back, so a lock
 * orders what its critical sections touch exactly like a mutex (TSan sees
 * the atomics).  Not recursive; never held across park or unpark.
 */
#ifndef LEAKBENCH_RT_LOCK_H
#define LEAKBENCH_RT_LOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct rt__lock {
    _Atomic uint32_t word; /* 0 free, 1 held, 2 held with possible sleepers */
} rt__lock;

#define RT__LOCK_INIT                                                                              \
    {                                                                                              \
        0                                                                                          \
    }

/* Spin rounds before sleeping (lock.c): RT__LOCK_SPIN, or 0 on the thread
 * scheduler; set by rt_run for its scheduler. */
#define RT__LOCK_SPIN 100
extern _Atomic int rt__lock_spin_rounds;

void rt__lock_slow(rt__lock *l);
void rt__lock_wake(rt__lock *l);

static inline void rt__lock_acquire(rt__lock *l)
{
    uint32_t free_word = 0;
    if (__builtin_expect(atomic_compare_exchange_strong_explicit(
                             &l->word, &free_word, 1, memory_order_acquire, memory_order_relaxed),
                         1))
        return;
    rt__lock_slow(l);
}

/* Takes the lock only if it is free: true if taken.  Never waits, so it
 * may be used against the lock order. */
static inline bool rt__lock_try(rt__lock *l)
{
    uint32_t free_word = 0;
    return atomic_compare_exchange_strong_explicit(&l->word, &free_word, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void rt__lock_release(rt__lock *l)
{
    if (__builtin_expect(atomic_exchange_explicit(&l->word, 0, memory_order_release) == 2, 0))
        rt__lock_wake(l);
}

#endif
