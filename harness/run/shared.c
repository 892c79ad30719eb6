/*
 * shared.c — maps the region a run's child shares with the parent
 * (shared.h): anonymous, MAP_SHARED, created before fork so both see it.
 */
#include "shared.h"

#include <string.h>
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
