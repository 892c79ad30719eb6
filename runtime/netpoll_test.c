/*
 * netpoll_test.c — rt_fd_wait and rt_fd_close: read and write readiness,
 * cancellation and deadlines while waiting, many tasks on many sockets,
 * two tasks on one fd, an fd closed under its waiter, the peer hanging up,
 * the "io" operation in counters and snapshots, and misuse.  Runs on both
 * schedulers and under TSan and ASan like every runtime test.
 */
#include "rt_test_util.h"

#include <fcntl.h>
#include <sys/socket.h>

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
