/*
 * payload.c — request payloads that really occupy memory.
 *
 * A leaked task in a real service keeps its request's buffers alive.  To
 * make that visible in RSS, a payload is allocated with mmap (so freeing it
 * returns the memory to the kernel, and malloc's arenas do not blur the
 * measurement) and one byte of every page is written so the pages are
 * resident.  The task that allocates it declares it with rt_task_hold,
 * so the leak report can estimate the memory each group holds.
 *
 * Reuse.  A fresh mapping per request costs an mmap, a page fault per page
 * and an munmap, and the munmap of a multi-threaded process interrupts every
 * other CPU running it to flush its TLB: at 5,000 requests/s that was a
 * fifth of `leakbench serve`'s CPU (perf, issue 11).  So a freed payload of
 * at most LB_PAYLOAD_REUSE_MAX bytes (64 KiB) is kept mapped, up to
 * LB_PAYLOAD_KEPT (16) of them, and handed to the next request of the same
 * page-rounded size; anything else is unmapped at once.  The memory kept is
 * bounded (1 MiB) and is only ever memory of payloads that
 * were freed: a leaked payload is never freed, so leaks show in RSS exactly
 * as before.  The list is one mutex-protected array, held for a scan of at
 * most LB_PAYLOAD_KEPT entries (no runtime call under it).
 */
#include "scenario.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

static struct {
    pthread_mutex_t lock;
    void *addr[LB_PAYLOAD_KEPT];
    size_t len[LB_PAYLOAD_KEPT]; /* page-rounded */
    int n;
} kept = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t page_round(size_t n)
{
    size_t page = page_size();
    return (n + page - 1) / page * page;
}

/* A kept mapping of exactly len bytes, taken off the list, or NULL. */
static void *kept_take(size_t len)
{
    void *p = NULL;
    pthread_mutex_lock(&kept.lock);
    for (int i = kept.n - 1; i >= 0; i--) {
        if (kept.len[i] != len) continue;
        p = kept.addr[i];
        kept.n--;
        kept.addr[i] = kept.addr[kept.n];
        kept.len[i] = kept.len[kept.n];
        break;
    }
    pthread_mutex_unlock(&kept.lock);
    return p;
}

/* Keeps the mapping p of len bytes for reuse: false when the list is full. */
static bool kept_put(void *p, size_t len)
{
    if (len > LB_PAYLOAD_REUSE_MAX) return false;
    bool put = false;
    pthread_mutex_lock(&kept.lock);
    if (kept.n < LB_PAYLOAD_KEPT) {
        kept.addr[kept.n] = p;
        kept.len[kept.n] = len;
        kept.n++;
        put = true;
    }
    pthread_mutex_unlock(&kept.lock);
    return put;
}

void *lb_payload_new(size_t n)
{
    if (n == 0) return NULL;
    size_t len = page_round(n);
    void *p = kept_take(len);
    if (!p) {
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return NULL;
    }
    /* A kept mapping is resident already; writing again costs a store per
     * page and keeps "every page written" true after a fork's copy-on-write. */
    size_t page = page_size();
    volatile unsigned char *bytes = p;
    for (size_t off = 0; off < n; off += page) bytes[off] = (unsigned char)(off / page);
    rt_task_hold(n);
    return p;
}

void lb_payload_free(void *p, size_t n)
{
    if (!p || !n) return;
    size_t len = page_round(n);
    if (!kept_put(p, len)) munmap(p, len);
}
