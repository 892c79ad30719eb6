/*
 * lock.c — the slow paths of the channel lock (rt_lock.h): a bounded spin,
 * then sleeping on the lock word with FUTEX_WAIT until a release wakes us.
 *
 * RT__LOCK_SPIN rounds of a CPU pause and a look at the word cover a
 * critical section running on another CPU (tens of nanoseconds) without a
 * system call; past that the holder is probably preempted, and we sleep.
 * On the thread scheduler there is no spin (rt__lock_spin_rounds).
 */
#include "rt_lock.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Spin rounds before sleeping: RT__LOCK_SPIN on the coroutine scheduler,
 * whose few worker threads hold a lock for nanoseconds; none on the thread
 * scheduler, where hundreds of task threads share two CPUs and a spinner
 * mostly keeps the holder from running (measured: the catalog's timing-
 * bound scenarios under ASan fell behind).  Set by rt_run. */
_Atomic int rt__lock_spin_rounds = RT__LOCK_SPIN;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void rt__lock_slow(rt__lock *l)
{
    int rounds = atomic_load_explicit(&rt__lock_spin_rounds, memory_order_relaxed);
    for (int i = 0; i < rounds; i++) {
        cpu_relax();
        uint32_t w = atomic_load_explicit(&l->word, memory_order_relaxed);
        if (w == 0 && atomic_compare_exchange_weak_explicit(&l->word, &w, 1, memory_order_acquire,
                                                            memory_order_relaxed))
            return;
        if (w == 2) break; /* others sleep already: queue behind them */
    }
    /* Mark the lock contended; whoever holds it wakes one sleeper on release.
     * Taking it this way leaves 2 behind, so our own release wakes the next
     * sleeper (if any: at worst one spurious FUTEX_WAKE). */
    while (atomic_exchange_explicit(&l->word, 2, memory_order_acquire) != 0)
        syscall(SYS_futex, (uint32_t *)&l->word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

void rt__lock_wake(rt__lock *l)
{
    syscall(SYS_futex, (uint32_t *)&l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
