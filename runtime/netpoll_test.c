/*
 * netpoll_test.c — rt_fd_wait and rt_fd_close: read and write readiness,
 * cancellation and deadlines while waiting, many tasks on many sockets,
 * two tasks on one fd, an fd closed under its waiter, the peer hanging up,
 * the "io" operation in counters and snapshots, and misuse; who completes
 * the waits (the coroutine workers themselves, or the poller thread on
 * threads), and a seeded stress run hunting lost wake-ups in the workers'
 * polling (fd readiness, timers, cancellation and wake-ups from a thread
 * that is not a task, all while workers sleep in epoll_wait).  Runs on
 * both schedulers and under TSan and ASan like every runtime test.
 */
#include "rt_sched.h"
#include "rt_test_util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>

void rt__netpoll_completions(int64_t *by_workers, int64_t *by_thread);

static void socket_pair(int sv[2])
{
    int rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
    CHECK_EQ(rc, 0);
}

typedef struct fd_waiter {
    int fd;
    int events;
    rt_ctx *ctx;
    int rc;
    char got; /* RT_FD_READ waiters read one byte after waking */
    _Atomic bool finished;
} fd_waiter;

static void wait_task(void *p)
{
    fd_waiter *w = p;
    w->rc = rt_fd_wait(w->fd, w->events, w->ctx);
    if (w->rc == 0 && w->events == RT_FD_READ && read(w->fd, &w->got, 1) != 1) w->got = 0;
    atomic_store(&w->finished, true);
}

RT_TEST(read_readiness_wakes_the_waiter)
{
    int sv[2];
    socket_pair(sv);
    fd_waiter w = {.fd = sv[0], .events = RT_FD_READ};
    CHECK_ERR(rt_go("reader", wait_task, &w), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == 1, 5000));
    CHECK(!atomic_load(&w.finished));
    CHECK_EQ(write(sv[1], "x", 1), 1);
    CHECK(RT_WAIT_UNTIL(atomic_load(&w.finished), 5000));
    CHECK_ERR(w.rc, 0);
    CHECK_EQ(w.got, 'x');
    CHECK_EQ(rt_test_blocked(RT_OP_IO), 0);
    close(sv[0]);
    close(sv[1]);
}

RT_TEST(already_ready_returns_at_once)
{
    int sv[2];
    socket_pair(sv);
    CHECK_ERR(rt_fd_wait(sv[0], RT_FD_WRITE, NULL), 0); /* empty send buffer */
    CHECK_EQ(write(sv[1], "y", 1), 1);
    CHECK_ERR(rt_fd_wait(sv[0], RT_FD_READ, NULL), 0);
    CHECK_ERR(rt_fd_wait(sv[0], RT_FD_READ | RT_FD_WRITE, NULL), 0);
    close(sv[0]);
    close(sv[1]);
}

RT_TEST(write_readiness_wakes_the_waiter)
{
    int sv[2];
    socket_pair(sv);
    char buf[4096];
    memset(buf, 'z', sizeof buf);
    size_t queued = 0;
    while (write(sv[0], buf, sizeof buf) > 0) queued += sizeof buf; /* fill until EAGAIN */
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
    fd_waiter w = {.fd = sv[0], .events = RT_FD_WRITE};
    CHECK_ERR(rt_go("writer", wait_task, &w), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == 1, 5000));
    CHECK(!atomic_load(&w.finished));
    ssize_t n;
    while ((n = read(sv[1], buf, sizeof buf)) > 0) queued -= (size_t)n; /* drain */
    CHECK(RT_WAIT_UNTIL(atomic_load(&w.finished), 5000));
    CHECK_ERR(w.rc, 0);
    CHECK(queued == 0);
    close(sv[0]);
    close(sv[1]);
}

RT_TEST(cancel_while_waiting)
{
    int sv[2];
    socket_pair(sv);
    fd_waiter w = {.fd = sv[0], .events = RT_FD_READ, .ctx = rt_ctx_with_cancel(NULL)};
    CHECK_ERR(rt_go("reader", wait_task, &w), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == 1, 5000));
    rt_ctx_cancel(w.ctx);
    CHECK(RT_WAIT_UNTIL(atomic_load(&w.finished), 5000));
    CHECK_ERR(w.rc, -ECANCELED);
    CHECK_EQ(rt_test_blocked(RT_OP_IO), 0);
    /* The fd is still usable: a later wait sees later data. */
    CHECK_EQ(write(sv[1], "a", 1), 1);
    CHECK_ERR(rt_fd_wait(sv[0], RT_FD_READ, NULL), 0);
    rt_ctx_release(w.ctx);
    close(sv[0]);
    close(sv[1]);
}

RT_TEST(deadline_while_waiting)
{
    int sv[2];
    socket_pair(sv);
    rt_ctx *ctx = rt_ctx_with_timeout(NULL, RT_MS(30));
    CHECK_ERR(rt_fd_wait(sv[0], RT_FD_READ, ctx), -ETIMEDOUT);
    CHECK_ERR(rt_fd_wait(sv[0], RT_FD_READ, ctx), -ETIMEDOUT); /* already ended */
    rt_ctx_release(ctx);
    close(sv[0]);
    close(sv[1]);
}

RT_TEST(many_tasks_on_many_sockets)
{
    enum { N = RT_TEST_SANITIZED ? 64 : 200 };
    static int sv[N][2];
    static fd_waiter w[N];
    for (int i = 0; i < N; i++) {
        socket_pair(sv[i]);
        w[i] = (fd_waiter){.fd = sv[i][0], .events = RT_FD_READ};
        CHECK_ERR(rt_go("reader", wait_task, &w[i]), 0);
    }
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == N, 10000));
    /* Wake them in a scrambled order, each with its own byte. */
    for (int k = 0; k < N; k++) {
        int i = (k * 7) % N;
        char c = (char)('A' + i % 26);
        CHECK_EQ(write(sv[i][1], &c, 1), 1);
    }
    for (int i = 0; i < N; i++) {
        CHECK(RT_WAIT_UNTIL(atomic_load(&w[i].finished), 10000));
        CHECK_ERR(w[i].rc, 0);
        CHECK_EQ(w[i].got, (char)('A' + i % 26));
        close(sv[i][0]);
        close(sv[i][1]);
    }
    CHECK_EQ(rt_test_blocked(RT_OP_IO), 0);
}

RT_TEST(reader_and_writer_on_one_fd)
{
    int sv[2];
    socket_pair(sv);
    char buf[4096];
    memset(buf, 'q', sizeof buf);
    while (write(sv[0], buf, sizeof buf) > 0) {
    }
    fd_waiter r = {.fd = sv[0], .events = RT_FD_READ};
    fd_waiter wr = {.fd = sv[0], .events = RT_FD_WRITE};
    CHECK_ERR(rt_go("reader", wait_task, &r), 0);
    CHECK_ERR(rt_go("writer", wait_task, &wr), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == 2, 5000));
    CHECK_EQ(write(sv[1], "r", 1), 1); /* readable, still not writable */
    CHECK(RT_WAIT_UNTIL(atomic_load(&r.finished), 5000));
    CHECK_ERR(r.rc, 0);
    CHECK_EQ(r.got, 'r');
    CHECK(!atomic_load(&wr.finished));
    while (read(sv[1], buf, sizeof buf) > 0) {
    }
    CHECK(RT_WAIT_UNTIL(atomic_load(&wr.finished), 5000));
    CHECK_ERR(wr.rc, 0);
    close(sv[0]);
    close(sv[1]);
}

RT_TEST(fd_closed_while_waiting)
{
    int sv[2];
    socket_pair(sv);
    fd_waiter r = {.fd = sv[0], .events = RT_FD_READ};
    fd_waiter wr = {.fd = sv[0], .events = RT_FD_READ};
    CHECK_ERR(rt_go("reader", wait_task, &r), 0);
    CHECK_ERR(rt_go("reader", wait_task, &wr), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == 2, 5000));
    CHECK_ERR(rt_fd_close(sv[0]), 0);
    CHECK(RT_WAIT_UNTIL(atomic_load(&r.finished) && atomic_load(&wr.finished), 5000));
    CHECK_ERR(r.rc, -EBADF);
    CHECK_ERR(wr.rc, -EBADF);
    CHECK_ERR(rt_fd_wait(sv[0], RT_FD_READ, NULL), -EBADF); /* no longer open */
    CHECK_ERR(rt_fd_close(sv[0]), -EBADF);
    close(sv[1]);
}

/* More waiters on one fd than the poller completes in one round. */
RT_TEST(crowd_on_one_fd)
{
    enum { N = 150 };
    static fd_waiter w[N];
    int sv[2];
    socket_pair(sv);
    for (int i = 0; i < N; i++) {
        w[i] = (fd_waiter){.fd = sv[0], .events = RT_FD_WRITE | RT_FD_READ};
        CHECK_ERR(rt_go("crowd", wait_task, &w[i]), 0);
    }
    /* Writable at once: every one of them wakes. */
    for (int i = 0; i < N; i++) CHECK(RT_WAIT_UNTIL(atomic_load(&w[i].finished), 10000));
    for (int i = 0; i < N; i++) CHECK_ERR(w[i].rc, 0);
    /* Now all waiting for input that never comes, until rt_fd_close. */
    for (int i = 0; i < N; i++) {
        w[i] = (fd_waiter){.fd = sv[0], .events = RT_FD_READ};
        CHECK_ERR(rt_go("crowd", wait_task, &w[i]), 0);
    }
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == N, 10000));
    CHECK_ERR(rt_fd_close(sv[0]), 0);
    for (int i = 0; i < N; i++) {
        CHECK(RT_WAIT_UNTIL(atomic_load(&w[i].finished), 10000));
        CHECK_ERR(w[i].rc, -EBADF);
    }
    close(sv[1]);
}

RT_TEST(peer_hang_up_counts_as_ready)
{
    int sv[2];
    socket_pair(sv);
    fd_waiter r = {.fd = sv[0], .events = RT_FD_READ};
    CHECK_ERR(rt_go("reader", wait_task, &r), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == 1, 5000));
    close(sv[1]);
    CHECK(RT_WAIT_UNTIL(atomic_load(&r.finished), 5000));
    CHECK_ERR(r.rc, 0);
    CHECK_EQ(r.got, 0); /* read() saw EOF */
    close(sv[0]);
}

static void io_blocked_here(void *p)
{
    fd_waiter *w = p;
    w->rc = rt_fd_wait(w->fd, RT_FD_READ, w->ctx);
    atomic_store(&w->finished, true);
}

RT_TEST(snapshot_shows_io_at_the_call_site)
{
    int sv[2];
    socket_pair(sv);
    fd_waiter w = {.fd = sv[0], .ctx = rt_ctx_with_cancel(NULL)};
    CHECK_ERR(rt_go("io-task", io_blocked_here, &w), 0);
    CHECK(RT_WAIT_UNTIL(rt_test_blocked(RT_OP_IO) == 1, 5000));
    rt_task_info info[8];
    size_t n = rt_snapshot(info, 8);
    bool found = false;
    for (size_t i = 0; i < n && i < 8; i++) {
        if (info[i].op != RT_OP_IO) continue;
        found = true;
        CHECK(!strcmp(info[i].role, "io-task"));
        CHECK(!strcmp(info[i].block_site.func, "io_blocked_here"));
        CHECK(info[i].cancellable);
    }
    CHECK(found);
    CHECK(!strcmp(rt_op_name(RT_OP_IO), "io"));
    rt_ctx_release(w.ctx);
    CHECK(RT_WAIT_UNTIL(atomic_load(&w.finished), 5000));
    CHECK_ERR(w.rc, -ECANCELED);
    close(sv[0]);
    close(sv[1]);
}

static void *outside_any_task(void *p)
{
    *(int *)p = rt_fd_wait(0, RT_FD_READ, NULL);
    return NULL;
}

RT_TEST(misuse_returns_errors)
{
    int sv[2];
    socket_pair(sv);
    CHECK_ERR(rt_fd_wait(-1, RT_FD_READ, NULL), -EINVAL);
    CHECK_ERR(rt_fd_wait(sv[0], 0, NULL), -EINVAL);
    CHECK_ERR(rt_fd_wait(sv[0], 4, NULL), -EINVAL);
    CHECK_ERR(rt_fd_close(-1), -EBADF);
    /* A regular file cannot be polled: always ready, as with poll(2). */
    int f = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    CHECK(f >= 0);
    CHECK_ERR(rt_fd_wait(f, RT_FD_READ, NULL), 0);
    close(f);
    int rc = 0;
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, outside_any_task, &rc), 0);
    pthread_join(th, NULL);
    CHECK_ERR(rc, -EDEADLK);
    close(sv[0]);
    close(sv[1]);
}

/* ------------------------------------------------------ who polls -- */

typedef struct echo_peer {
    int fd;
    rt_ctx *ctx;
    _Atomic bool finished;
} echo_peer;

/* Echoes every byte back until EOF or its context ends. */
static void echo_task(void *p)
{
    echo_peer *e = p;
    for (;;) {
        char buf[64];
        ssize_t n = read(e->fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) break;
            if (rt_fd_wait(e->fd, RT_FD_READ, e->ctx) < 0) break;
            continue;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t k = write(e->fd, buf + off, (size_t)(n - off));
            if (k > 0)
                off += k;
            else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
                     rt_fd_wait(e->fd, RT_FD_WRITE, e->ctx) == 0)
                continue;
            else
                goto out;
        }
    }
out:
    atomic_store(&e->finished, true);
}

/* One byte to the echo and back: 0, or the failing call's -errno. */
static int ping(int fd, char c, rt_ctx *ctx)
{
    if (write(fd, &c, 1) != 1) return -errno;
    for (;;) {
        char got;
        ssize_t n = read(fd, &got, 1);
        if (n == 1) return got == c ? 0 : -EPROTO;
        if (n == 0) return -EPIPE;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
        int rc = rt_fd_wait(fd, RT_FD_READ, ctx);
        if (rc < 0) return rc;
    }
}

/* On coroutines the workers complete fd waits themselves (no poller
 * thread, no hand-off); on threads the poller thread does. */
RT_TEST(the_right_poller_completes_the_waits)
{
    int sv[2];
    socket_pair(sv);
    int64_t workers0, thread0;
    rt__netpoll_completions(&workers0, &thread0);
    echo_peer e = {.fd = sv[1]};
    CHECK_ERR(rt_go("echo", echo_task, &e), 0);
    enum { ROUNDS = 200 };
    for (int i = 0; i < ROUNDS; i++) CHECK_ERR(ping(sv[0], (char)('a' + i % 26), NULL), 0);
    int64_t workers1, thread1;
    rt__netpoll_completions(&workers1, &thread1);
    if (rt__sched == &rt__sched_coroutines) {
        CHECK(workers1 - workers0 >= ROUNDS / 2); /* most pings waited at least once */
        CHECK_EQ(thread1, 0);                     /* no poller thread in this process */
    } else {
        CHECK(thread1 - thread0 >= ROUNDS / 2);
        CHECK_EQ(workers1, 0);
    }
    close(sv[0]);
    CHECK(RT_WAIT_UNTIL(atomic_load(&e.finished), 5000));
    close(sv[1]);
}

/* ---------------------------------------------------------- stress -- */

/* Every wait below has a 10 s escape hatch: a lost wake-up shows as a
 * timed-out wait (counted in `lost`) instead of a hang. */
#define STRESS_HATCH_NS RT_MS(10000)

enum { STRESS_PAIRS = RT_TEST_SANITIZED ? 4 : 12, STRESS_ROUNDS = RT_TEST_SANITIZED ? 200 : 1500 };

static struct {
    uint64_t seed;
    _Atomic int64_t lost, bad, rounds;
    _Atomic bool stop;
    /* Channels a bell task waits on, closed by the foreign thread. */
    _Atomic(rt_chan *) bell[STRESS_PAIRS];
    _Atomic bool bell_closed[STRESS_PAIRS];
} stress;

typedef struct stress_client {
    int index;
    int fd;
    uint64_t rng;
    _Atomic bool finished;
} stress_client;

static void stress_client_task(void *p)
{
    stress_client *c = p;
    for (int r = 0; r < STRESS_ROUNDS; r++) {
        rt_ctx *hatch = rt_ctx_with_timeout(NULL, STRESS_HATCH_NS);
        uint64_t x = rt_test_rand(&c->rng);
        int rc;
        switch (x % 5) {
        case 0:
        case 1: /* a round trip through the echo */
            rc = ping(c->fd, (char)('A' + r % 26), hatch);
            if (rc == -ETIMEDOUT)
                atomic_fetch_add(&stress.lost, 1);
            else if (rc != 0)
                atomic_fetch_add(&stress.bad, 1);
            break;
        case 2: { /* a wait that nothing makes ready ends by its deadline */
            rt_ctx *short_ = rt_ctx_with_timeout(hatch, (int64_t)(x >> 8) % RT_MS(1));
            rc = rt_fd_wait(c->fd, RT_FD_READ, short_);
            char b;
            if (rc == 0 && read(c->fd, &b, 1) != -1)
                atomic_fetch_add(&stress.bad, 1);
            else if (rc != 0 && rc != -ETIMEDOUT)
                atomic_fetch_add(&stress.bad, 1);
            rt_ctx_release(short_);
            break;
        }
        case 3: /* a timer while workers sleep in epoll_wait */
            if (rt_sleep((int64_t)(x >> 8) % 200000, hatch) != 0) atomic_fetch_add(&stress.lost, 1);
            break;
        default: { /* a wake-up from a thread that is not a task */
            rt_chan *ch = rt_chan_new(0);
            CHECK(ch != NULL);
            atomic_store(&stress.bell_closed[c->index], false);
            atomic_store(&stress.bell[c->index], ch);
            void *v;
            rc = rt_chan_recv(ch, &v, hatch);
            if (rc == -ETIMEDOUT)
                atomic_fetch_add(&stress.lost, 1);
            else if (rc != -EPIPE)
                atomic_fetch_add(&stress.bad, 1);
            if (rc == -EPIPE) /* wait until the closer has let go of it */
                while (!atomic_load(&stress.bell_closed[c->index])) rt_yield();
            else if (atomic_exchange(&stress.bell[c->index], NULL) == NULL)
                while (!atomic_load(&stress.bell_closed[c->index])) rt_yield();
            rt_chan_free(ch);
            break;
        }
        }
        rt_ctx_release(hatch);
        atomic_fetch_add(&stress.rounds, 1);
        if (x % 7 == 0) rt_yield();
    }
    atomic_store(&c->finished, true);
}

/* Closes bell channels as they appear, with small random pauses. */
static void *stress_bell_ringer(void *arg)
{
    uint64_t rng = *(uint64_t *)arg | 1;
    while (!atomic_load(&stress.stop)) {
        for (int i = 0; i < STRESS_PAIRS; i++) {
            rt_chan *ch = atomic_exchange(&stress.bell[i], NULL);
            if (!ch) continue;
            struct timespec ts = {0, (long)(rt_test_rand(&rng) % 100000)};
            nanosleep(&ts, NULL);
            rt_chan_close(ch);
            atomic_store(&stress.bell_closed[i], true);
        }
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

RT_TEST(stress_no_lost_wakeups)
{
    uint64_t seed = (uint64_t)rt_test_env_long("LEAKBENCH_SEED", 0);
    if (seed == 0) seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    fprintf(stderr, "stress_no_lost_wakeups: seed %llu (rerun with LEAKBENCH_SEED=%llu)\n",
            (unsigned long long)seed, (unsigned long long)seed);
    stress.seed = seed;
    atomic_store(&stress.lost, 0);
    atomic_store(&stress.bad, 0);
    atomic_store(&stress.rounds, 0);
    atomic_store(&stress.stop, false);
    static int sv[STRESS_PAIRS][2];
    static echo_peer echo[STRESS_PAIRS];
    static stress_client client[STRESS_PAIRS];
    rt_ctx *stop = rt_ctx_with_cancel(NULL);
    uint64_t ringer_seed = seed * 0x9e3779b97f4a7c15ULL;
    pthread_t ringer;
    CHECK_EQ(pthread_create(&ringer, NULL, stress_bell_ringer, &ringer_seed), 0);
    for (int i = 0; i < STRESS_PAIRS; i++) {
        socket_pair(sv[i]);
        echo[i] = (echo_peer){.fd = sv[i][1], .ctx = stop};
        client[i] = (stress_client){
            .index = i, .fd = sv[i][0], .rng = (seed + (uint64_t)i) * 0x2545f4914f6cdd1dULL | 1};
        CHECK_ERR(rt_go("echo", echo_task, &echo[i]), 0);
        CHECK_ERR(rt_go("stress", stress_client_task, &client[i]), 0);
    }
    for (int i = 0; i < STRESS_PAIRS; i++)
        CHECK(RT_WAIT_UNTIL(atomic_load(&client[i].finished), 50000));
    atomic_store(&stress.stop, true);
    pthread_join(ringer, NULL);
    rt_ctx_cancel(stop);
    for (int i = 0; i < STRESS_PAIRS; i++) {
        CHECK(RT_WAIT_UNTIL(atomic_load(&echo[i].finished), 5000));
        close(sv[i][0]);
        close(sv[i][1]);
    }
    rt_ctx_release(stop);
    if (atomic_load(&stress.lost) || atomic_load(&stress.bad))
        fprintf(stderr, "stress_no_lost_wakeups: seed %llu: %lld lost, %lld wrong of %lld rounds\n",
                (unsigned long long)seed, (long long)atomic_load(&stress.lost),
                (long long)atomic_load(&stress.bad), (long long)atomic_load(&stress.rounds));
    CHECK_EQ(atomic_load(&stress.lost), 0);
    CHECK_EQ(atomic_load(&stress.bad), 0);
    CHECK_EQ(atomic_load(&stress.rounds), (int64_t)STRESS_PAIRS * STRESS_ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_readiness_wakes_the_waiter),
        cmocka_unit_test(already_ready_returns_at_once),
        cmocka_unit_test(write_readiness_wakes_the_waiter),
        cmocka_unit_test(cancel_while_waiting),
        cmocka_unit_test(deadline_while_waiting),
        cmocka_unit_test(many_tasks_on_many_sockets),
        cmocka_unit_test(reader_and_writer_on_one_fd),
        cmocka_unit_test(fd_closed_while_waiting),
        cmocka_unit_test(crowd_on_one_fd),
        cmocka_unit_test(peer_hang_up_counts_as_ready),
        cmocka_unit_test(snapshot_shows_io_at_the_call_site),
        cmocka_unit_test(misuse_returns_errors),
        cmocka_unit_test(the_right_poller_completes_the_waits),
        cmocka_unit_test(stress_no_lost_wakeups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
