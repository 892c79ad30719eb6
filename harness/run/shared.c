/*
 * shared.c — maps the region a run's child shares with the parent
 * (shared.h): anonymous, MAP_SHARED, created before fork so both see it.
 */
#include "shared.h"

#include <string.h>
#include <time.h>
#include <sys/mman.h>

lb_shared *lb_shared_map(void)
{
    void *p =
        mmap(NULL, sizeof(lb_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    memset(p, 0, sizeof(lb_shared)); /* already zero; states the intent */
    return p;
}

void lb_shared_unmap(lb_shared *s)
{
    if (s) munmap(s, sizeof *s);
}

const char *lb_phase_name(lb_phase p)
{
    static const char *const names[LB_PHASE_COUNT] = {"start",  "ready",    "load",
                                                      "settle", "shutdown", "exit"};
    return (unsigned)p < LB_PHASE_COUNT ? names[p] : "unknown";
}

void lb_shared_enter_phase(lb_shared *sh, lb_phase p)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    atomic_store_explicit(&sh->phase_at_ns[p], (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec,
                          memory_order_relaxed);
    atomic_store_explicit(&sh->phase, p, memory_order_release);
}

void lb_shared_record_request(lb_shared *sh, lb_outcome outcome, uint64_t us)
{
    lb_hist_record_us(&sh->latency, us);
    if (outcome == LB_COMPLETED) lb_hist_record_us(&sh->latency_completed, us);
    atomic_fetch_add_explicit(&sh->outcome[outcome], 1, memory_order_relaxed);
}

void lb_shared_wait_final_sample(lb_shared *sh)
{
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 2000 && !atomic_load_explicit(&sh->final_sampled, memory_order_acquire);
         i++)
        nanosleep(&ms, NULL);
}
