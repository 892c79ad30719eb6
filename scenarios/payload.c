/*
 * payload.c — request payloads that really occupy memory.
 *
 * A leaked task in a real service keeps its request's buffers alive.  To
 * make that visible in RSS, a payload is allocated with mmap (so freeing it
 * returns the memory to the kernel at once, and malloc's arenas do not
 * blur the measurement) and one byte of every page is written so the pages
 * are resident.  The task that allocates it declares it with rt_task_hold,
 * so the leak report can estimate the memory each group holds.
 */
#include "scenario.h"

#include <sys/mman.h>
#include <unistd.h>

void *lb_payload_new(size_t n)
{
    if (n == 0) return NULL;
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    volatile unsigned char *bytes = p;
    for (size_t off = 0; off < n; off += page) bytes[off] = (unsigned char)(off / page);
    rt_task_hold(n);
    return p;
}

void lb_payload_free(void *p, size_t n)
{
    if (p && n) munmap(p, n);
}
