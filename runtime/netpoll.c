/*
 * netpoll.c — rt_fd_wait: waiting for a file descriptor parks the task,
 * not its worker thread (Go's netpoller, libdill's fdin/fdout).
 *
 * Design.  One epoll instance per process, polled by idle coroutine
 * workers or by a poller thread (below).  A waiting task describes its
 * wait in an np_waiter on its own stack, links it into the list of its fd
 * (under np.lock), arms the fd in epoll (EPOLLONESHOT, the union of the
 * events its waiters want) and then waits in an ordinary select on a
 * private channel, `ready`, with the caller's context as the implicit
 * case.  Whoever completes the wait — the poller when the fd is ready,
 * rt_fd_close when the fd is closed under it — unlinks the waiter
 * under np.lock, records the result and closes `ready`, which wakes the
 * task through the channel code like any other receiver.  So cancellation
 * and deadlines need nothing new: the context's done channel wakes the
 * select as it wakes every blocking call, the task shows up in snapshots
 * and counters as blocked in RT_OP_IO at its call site, and completing a
 * wait needs only the seam's unpark (through rt_chan_close).
 *
 * Who polls.  On the coroutine scheduler the workers poll, as Go's
 * scheduler does from findrunnable: a worker with nothing to run, while
 * fd waiters exist, claims the poll (one worker at a time,
 * rt__netpoll_claim) and sleeps in epoll_wait instead of on its futex,
 * for as long as it would have slept there (its earliest timer, at most
 * the idle poll period); then it completes the waits that became ready,
 * and their tasks land on its own run queue (the seam's unpark from the
 * worker's scheduler context), so a request costs no thread hand-off.  A
 * wake-up meant for that worker (new work, a timer moved earlier,
 * shutdown) breaks its epoll_wait through an eventfd in the epoll set
 * (rt__netpoll_break, from the scheduler's worker_wake).  A busy worker
 * also takes a non-blocking look every few dozen schedules, so fd waits
 * complete while every worker has work.  With the poller thread the
 * per-readiness hand-off (poller wakes, then a worker's futex) cost 27%
 * of `leakbench serve`'s CPU at 5,000 requests/s.
 *
 * On the thread scheduler a task thread parks on its futex, exactly as in
 * a channel receive, and a poller thread, started by the first wait made
 * off the coroutine scheduler, blocks in epoll_wait and completes the
 * waits (it only calls the seam's unpark, through rt_chan_close, from a
 * thread that is not a task — which the seam allows, as the thread
 * scheduler's timer thread does).  Once it runs, workers of a later
 * coroutine run in the same process no longer claim the poll (two kinds
 * of poller on one epoll instance could swallow each other's break
 * event); they sleep on their futex and the poller thread wakes their
 * tasks, as before workers polled.  The poller needs a CPU to run, so
 * the coroutine scheduler does not let idle workers spin-wait while fd
 * waiters exist (rt__netpoll_waiting).
 *
 * Completing.  The poller and rt_fd_close complete at most NP_WAKE_MAX
 * waiters per round under np.lock, then close their channels with no lock
 * held (an unpark may switch tasks on coroutines), and go on: completing
 * a wait never allocates.
 *
 * Lifetimes.  The waiter lives on the waiting task's stack: after
 * np.lock is dropped the completer touches only the channel, on which it
 * holds its own reference (rt__chan_retain).  The waiting task, once its
 * select returns, takes np.lock and unlinks its waiter unless a completer
 * already did; after that nobody can reach the waiter.  epoll registrations
 * are keyed by fd number (data.fd), never by pointer: an event for an fd
 * whose waiters are gone finds an empty list and is dropped (EPOLLONESHOT
 * has disarmed it).  A registration is kept across waits (re-armed with
 * EPOLL_CTL_MOD); an fd closed with plain close() leaves epoll by itself,
 * and the next wait on a new fd with that number falls back to ADD.
 *
 * Fork.  The epoll fd would be shared with the parent, so a forked child
 * (pthread_atfork) starts with a new epoll instance, no poller thread, no
 * claim and no waiters.  (No getpid per wait: glibc no longer caches it,
 * and it was a system call per fd wait.)
 *
 * Locks.  np.lock protects everything in `np` and every linked waiter.  It
 * is a leaf: no channel, context or scheduler lock is taken under it, and
 * channels are closed only after it is dropped.  The claim (np_claimed)
 * is an atomic flag; the claimant alone touches the events it gathered.
 */
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define NP_EVENTS_MAX 128 /* events taken per epoll_wait */
#define NP_BREAK_FD   -2  /* data.fd of the break eventfd's registration */

typedef struct np_waiter {
    struct np_waiter *prev, *next; /* in its fd's list, under np.lock */
    int fd;
    int events;     /* RT_FD_READ | RT_FD_WRITE */
    rt_chan *ready; /* closed by the completer */
    int result;     /* 0 or -EBADF, set by the completer under np.lock */
    bool done;      /* completed (unlinked by the completer) */
} np_waiter;

typedef struct np_fd {
    np_waiter *head;
    bool registered; /* np.epfd has this fd number (may be stale after a close()) */
} np_fd;

static struct {
    pthread_mutex_t lock;
    int epfd;    /* this process's epoll instance; -1 until first use (and after a fork) */
    int breakfd; /* eventfd in epfd (NP_BREAK_FD): rt__netpoll_break */
    bool poller_started;
    np_fd *fds; /* indexed by fd number */
    size_t nfds;
} np = {.lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .breakfd = -1};

/* Waiters linked in np.fds, readable without np.lock (rt__netpoll_waiting). */
static _Atomic int64_t np_waiting;
/* The poller thread runs (workers then do not claim the poll). */
static _Atomic bool np_poller_on;
/* A worker holds the poll (rt__netpoll_claim .. rt__netpoll_deliver). */
static _Atomic bool np_claimed;
/* A break was written and not yet read back: one write per sleep. */
static _Atomic bool np_break_pending;
/* np.epfd and np.breakfd for readers without np.lock (the claimant,
 * rt__netpoll_break); written with them. */
static _Atomic int np_live_epfd = -1, np_live_breakfd = -1;
/* The claimant's events, between its wait and its deliver. */
static struct epoll_event np_claim_evs[NP_EVENTS_MAX];
static int np_claim_n;
/* Wait completions by pollers, for tests (rt__netpoll_completions). */
static _Atomic int64_t np_completed_by_workers, np_completed_by_thread;

bool rt__netpoll_waiting(void)
{
    return atomic_load_explicit(&np_waiting, memory_order_relaxed) > 0;
}

/* ------------------------------------------------------------- fork -- */

static void np_atfork_prepare(void)
{
    pthread_mutex_lock(&np.lock);
}
static void np_atfork_parent(void)
{
    pthread_mutex_unlock(&np.lock);
}
static void np_atfork_child(void)
{
    /* The waiters belong to the parent's tasks; the epoll fd is the
     * parent's instance.  np_ensure builds new ones on first use. */
    if (np.epfd >= 0) close(np.epfd);
    if (np.breakfd >= 0) close(np.breakfd);
    np.epfd = np.breakfd = -1;
    atomic_store(&np_live_epfd, -1);
    atomic_store(&np_live_breakfd, -1);
    np.poller_started = false;
    if (np.fds) memset(np.fds, 0, np.nfds * sizeof *np.fds);
    atomic_store(&np_waiting, 0);
    atomic_store(&np_poller_on, false);
    atomic_store(&np_claimed, false);
    atomic_store(&np_break_pending, false);
    pthread_mutex_unlock(&np.lock);
}
static pthread_once_t np_once = PTHREAD_ONCE_INIT;
static void np_init_once(void)
{
    pthread_atfork(np_atfork_prepare, np_atfork_parent, np_atfork_child);
}

/* --------------------------------------------------------- waiters -- */

static uint32_t epoll_mask(int events)
{
    uint32_t m = EPOLLONESHOT;
    if (events & RT_FD_READ) m |= EPOLLIN | EPOLLRDHUP;
    if (events & RT_FD_WRITE) m |= EPOLLOUT;
    return m;
}

/* What an epoll event makes ready: errors and hang-ups wake everyone. */
static int ready_events(uint32_t ev)
{
    int r = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) r |= RT_FD_READ;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) r |= RT_FD_WRITE;
    return r;
}

static int wanted_events(const np_fd *e)
{
    int want = 0;
    for (const np_waiter *w = e->head; w; w = w->next) want |= w->events;
    return want;
}

static void waiter_unlink(np_fd *e, np_waiter *w)
{
    atomic_fetch_sub_explicit(&np_waiting, 1, memory_order_relaxed);
    if (w->prev)
        w->prev->next = w->next;
    else
        e->head = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

/* Channels to close once np.lock is dropped: a fixed number per round,
 * so completing a wait never allocates. */
#define NP_WAKE_MAX 64
typedef struct np_wake_list {
    rt_chan *chans[NP_WAKE_MAX];
    size_t len;
} np_wake_list;

/* Completes w (np.lock held) if the list has room: unlinks it, records
 * result and queues its channel, with a reference of our own, for closing
 * after the unlock.  false (w untouched) when the list is full. */
static bool waiter_complete(np_fd *e, np_waiter *w, int result, np_wake_list *wl)
{
    if (wl->len == NP_WAKE_MAX) return false;
    waiter_unlink(e, w);
    w->result = result;
    w->done = true;
    wl->chans[wl->len++] = rt__chan_retain(w->ready);
    return true;
}

/* Closes the queued channels (no lock held) and empties the list. */
static void wake_list_run(np_wake_list *wl)
{
    for (size_t i = 0; i < wl->len; i++) {
        rt_chan_close(wl->chans[i]);
        rt__chan_release(wl->chans[i]);
    }
    wl->len = 0;
}

/* (Re-)arms fd for the union of its waiters' events (np.lock held):
 * 0, -EBADF (not open) or -EPERM (cannot be polled: a regular file). */
static int arm(int fd, np_fd *e)
{
    struct epoll_event ev = {.events = epoll_mask(wanted_events(e)), .data.fd = fd};
    int op = e->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int rc = epoll_ctl(np.epfd, op, fd, &ev);
    if (rc < 0 && errno == ENOENT && op == EPOLL_CTL_MOD) /* closed and reopened */
        rc = epoll_ctl(np.epfd, op = EPOLL_CTL_ADD, fd, &ev);
    else if (rc < 0 && errno == EEXIST && op == EPOLL_CTL_ADD)
        rc = epoll_ctl(np.epfd, op = EPOLL_CTL_MOD, fd, &ev);
    if (rc < 0) {
        e->registered = false;
        return -errno;
    }
    e->registered = true;
    return 0;
}

/* ---------------------------------------------------------- poller -- */

/* Completes the waiters an event made ready and re-arms the fd for the
 * others (np.lock held).  false when the wake list filled first: call
 * again after running it. */
static bool deliver(const struct epoll_event *ev, np_wake_list *wl)
{
    int fd = ev->data.fd;
    if (fd < 0 || (size_t)fd >= np.nfds) return true;
    np_fd *e = &np.fds[fd];
    int ready = ready_events(ev->events);
    np_waiter *next;
    for (np_waiter *w = e->head; w; w = next) {
        next = w->next;
        if ((w->events & ready) && !waiter_complete(e, w, 0, wl)) return false;
    }
    /* EPOLLONESHOT disarmed the fd: re-arm for whoever still waits. */
    if (e->head && arm(fd, e) < 0) {
        while (e->head)
            if (!waiter_complete(e, e->head, -EBADF, wl)) return false;
    }
    return true;
}

/* Reads back a break (the eventfd is level-triggered: it stays ready
 * until read). */
static void break_consume(void)
{
    uint64_t v;
    if (read(np.breakfd, &v, sizeof v) < 0) {
        /* EAGAIN: another poller read it first */
    }
    atomic_store(&np_break_pending, false);
}

/* Completes the waits n events made ready, in rounds of NP_WAKE_MAX
 * (np.lock not held by the caller).  Returns how many were completed. */
static int64_t deliver_events(int epfd, const struct epoll_event *evs, int n)
{
    np_wake_list wl = {.len = 0};
    int64_t completed = 0;
    pthread_mutex_lock(&np.lock);
    bool current = np.epfd == epfd;
    for (int i = 0; current && i < n;) {
        if (evs[i].data.fd == NP_BREAK_FD) {
            break_consume();
            i++;
            continue;
        }
        if (deliver(&evs[i], &wl)) i++;
        if (wl.len == NP_WAKE_MAX) { /* a full round: wake them, go on */
            pthread_mutex_unlock(&np.lock);
            completed += (int64_t)wl.len;
            wake_list_run(&wl);
            pthread_mutex_lock(&np.lock);
            current = np.epfd == epfd;
        }
    }
    pthread_mutex_unlock(&np.lock);
    completed += (int64_t)wl.len;
    wake_list_run(&wl);
    return current ? completed : -1;
}

static void *poller_main(void *arg)
{
    int epfd = (int)(intptr_t)arg;
    struct epoll_event evs[NP_EVENTS_MAX];
    for (;;) {
        int n = epoll_wait(epfd, evs, NP_EVENTS_MAX, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break; /* EBADF: a forked child replaced the instance (never here) */
        }
        int64_t done = deliver_events(epfd, evs, n);
        if (done < 0) break;
        atomic_fetch_add_explicit(&np_completed_by_thread, done, memory_order_relaxed);
    }
    return NULL;
}

/* Starts the poller thread (np.lock held, np.epfd open): 0 or -errno. */
static int poller_start(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &attr, poller_main, (void *)(intptr_t)np.epfd);
    pthread_attr_destroy(&attr);
    if (rc != 0) return -rc;
    np.poller_started = true;
    atomic_store(&np_poller_on, true);
    return 0;
}

/* Makes sure this process has its epoll instance (with the break eventfd
 * in it) and that np.fds covers fd (np.lock held): 0 or -errno.  The
 * fork handler resets epfd, so no pid check is needed. */
static int np_ensure(int fd)
{
    if (np.epfd < 0) {
        int epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) return -errno;
        int bfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = NP_BREAK_FD};
        if (bfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, bfd, &ev) < 0) {
            int err = -errno;
            if (bfd >= 0) close(bfd);
            close(epfd);
            return err;
        }
        np.epfd = epfd;
        np.breakfd = bfd;
        atomic_store(&np_live_epfd, epfd);
        atomic_store(&np_live_breakfd, bfd);
    }
    if ((size_t)fd >= np.nfds) {
        size_t n = np.nfds ? np.nfds : 64;
        while (n <= (size_t)fd) n *= 2;
        np_fd *fds = realloc(np.fds, n * sizeof *fds);
        if (!fds) return -ENOMEM;
        memset(fds + np.nfds, 0, (n - np.nfds) * sizeof *fds);
        np.fds = fds;
        np.nfds = n;
    }
    return 0;
}

/* ---------------------------------------------- polling from workers -- */

bool rt__netpoll_claim(void)
{
    if (!rt__netpoll_waiting() || atomic_load(&np_poller_on)) return false;
    if (atomic_load_explicit(&np_claimed, memory_order_relaxed)) return false;
    bool free_ = false;
    if (!atomic_compare_exchange_strong(&np_claimed, &free_, true)) return false;
    /* The poller thread may have started since the first look. */
    if (atomic_load(&np_poller_on)) {
        atomic_store(&np_claimed, false);
        return false;
    }
    np_claim_n = 0;
    return true;
}

void rt__netpoll_wait(int64_t timeout_ns)
{
    int epfd = atomic_load_explicit(&np_live_epfd, memory_order_acquire);
    if (epfd < 0) return;
    /* epoll_pwait2 (Linux 5.11) takes the timeout in nanoseconds, so the
     * worker wakes for its next timer on time; before it, epoll_wait with
     * the timeout rounded up to a millisecond. */
    static _Atomic bool no_pwait2;
    struct timespec ts = {.tv_sec = timeout_ns / 1000000000LL,
                          .tv_nsec = timeout_ns % 1000000000LL};
    int n;
    do {
        n = -1;
        if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
            n = epoll_pwait2(epfd, np_claim_evs, NP_EVENTS_MAX, &ts, NULL);
            if (n < 0 && errno == ENOSYS) atomic_store(&no_pwait2, true);
        }
        if (atomic_load_explicit(&no_pwait2, memory_order_relaxed))
            n = epoll_wait(epfd, np_claim_evs, NP_EVENTS_MAX,
                           (int)((timeout_ns + 999999) / 1000000));
    } while (n < 0 && errno == EINTR && timeout_ns == 0);
    np_claim_n = n > 0 ? n : 0;
}

int64_t rt__netpoll_deliver(void)
{
    int64_t done = 0;
    if (np_claim_n > 0) {
        done = deliver_events(atomic_load(&np_live_epfd), np_claim_evs, np_claim_n);
        np_claim_n = 0;
        if (done > 0)
            atomic_fetch_add_explicit(&np_completed_by_workers, done, memory_order_relaxed);
    }
    atomic_store(&np_claimed, false);
    return done > 0 ? done : 0;
}

void rt__netpoll_break(void)
{
    if (atomic_exchange(&np_break_pending, true)) return; /* one is on its way */
    int bfd = atomic_load_explicit(&np_live_breakfd, memory_order_acquire);
    uint64_t one = 1;
    if (bfd < 0 || write(bfd, &one, sizeof one) < 0) atomic_store(&np_break_pending, false);
}

/* White-box hook for netpoll_test.c: waits completed so far by polling
 * workers and by the poller thread. */
void rt__netpoll_completions(int64_t *by_workers, int64_t *by_thread);
void rt__netpoll_completions(int64_t *by_workers, int64_t *by_thread)
{
    *by_workers = atomic_load(&np_completed_by_workers);
    *by_thread = atomic_load(&np_completed_by_thread);
}

/* ------------------------------------------------------------- API -- */

/* Links w and arms its fd: 0 queued, 1 always ready (cannot be polled),
 * or -errno. */
static int waiter_enqueue(np_waiter *w)
{
    pthread_once(&np_once, np_init_once);
    pthread_mutex_lock(&np.lock);
    int rc = np_ensure(w->fd);
    /* Coroutine workers poll for their tasks; anything else needs the
     * poller thread. */
    if (rc == 0 && !np.poller_started && rt__sched != &rt__sched_coroutines) rc = poller_start();
    if (rc == 0) {
        np_fd *e = &np.fds[w->fd];
        atomic_fetch_add_explicit(&np_waiting, 1, memory_order_relaxed);
        w->next = e->head;
        if (e->head) e->head->prev = w;
        e->head = w;
        rc = arm(w->fd, e);
        if (rc < 0) waiter_unlink(e, w);
        if (rc == -EPERM) rc = 1;
    }
    pthread_mutex_unlock(&np.lock);
    return rc;
}

/* Unlinks w unless a completer already did; afterwards nobody can reach
 * it.  Returns whether it had been completed. */
static bool waiter_dequeue(np_waiter *w)
{
    pthread_mutex_lock(&np.lock);
    bool done = w->done;
    if (!done) waiter_unlink(&np.fds[w->fd], w);
    pthread_mutex_unlock(&np.lock);
    return done;
}

int rt_fd_wait_at(int fd, int events, rt_ctx *ctx, rt_site site)
{
    if (!rt_self()) return -EDEADLK;
    if (fd < 0 || events == 0 || (events & ~(RT_FD_READ | RT_FD_WRITE))) return -EINVAL;
    int err = rt_ctx_err(ctx);
    if (err) return err;
    np_waiter w = {.fd = fd, .events = events, .ready = rt_chan_new(0)};
    if (!w.ready) return -ENOMEM;
    int rc = waiter_enqueue(&w);
    if (rc != 0) {
        rt__chan_release(w.ready);
        return rc == 1 ? 0 : rc;
    }
    rt_case ready = RT_RECV_CASE(w.ready);
    int r = rt__select(&ready, 1, false, ctx, RT_FOREVER, RT_OP_IO, &site);
    bool done = waiter_dequeue(&w);
    rt__chan_release(w.ready);
    if (r < 0) return r; /* the context ended (first, or at the same time) */
    return done ? w.result : 0;
}

int rt_fd_close(int fd)
{
    if (fd < 0) return -EBADF;
    pthread_once(&np_once, np_init_once);
    np_wake_list wl = {.len = 0};
    bool more;
    do { /* rounds of at most NP_WAKE_MAX waiters */
        pthread_mutex_lock(&np.lock);
        more = false;
        if (np.epfd >= 0 && (size_t)fd < np.nfds) {
            np_fd *e = &np.fds[fd];
            while (e->head && waiter_complete(e, e->head, -EBADF, &wl)) {
            }
            more = e->head != NULL;
            if (!more && e->registered) epoll_ctl(np.epfd, EPOLL_CTL_DEL, fd, NULL);
            if (!more) e->registered = false;
        }
        pthread_mutex_unlock(&np.lock);
        wake_list_run(&wl);
    } while (more);
    return close(fd) == 0 ? 0 : -errno;
}
