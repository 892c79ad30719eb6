/*
 * target_fixture.c — a misbehaving external target for the tests of
 * `leakbench run` on a spec's `target` pair (harness/cli/target_failures_test.c):
 * one small program whose first argument picks how it misbehaves.
 *
 *   target_fixture exit N        says so on stderr and exits with status N at once
 *   target_fixture sleep         never listens (sleeps until a signal ends it)
 *   target_fixture silent        listens on $PORT but never accepts: a TCP
 *                                connect succeeds, no request is ever answered
 *   target_fixture serve         serves on $PORT until SIGTERM or SIGINT, then exits 0
 *   target_fixture ignore-term   serves, and ignores SIGTERM
 *   target_fixture fork-serve    forks a child that serves; the started process exits 0
 *   target_fixture flood BYTES   writes BYTES of text to stdout and a last line
 *                                "FLOOD-END", then serves
 *   target_fixture hog N         serves; once N requests came in (a readiness
 *                                check is one), allocates and touches 1 MiB
 *                                more every millisecond until killed
 *
 * Serving is http_test_server.h on 127.0.0.1:$PORT (what `port` gives a
 * target): /healthz and any other path answer 200 "ok", /work?service_ms=N
 * after N ms, /status/CODE that status (a probe that answers 404), and
 * /garbage a line that is not HTTP (a probe that answers garbage).  Every
 * line it prints starts with "target_fixture: ", so a test can find it in
 * the log tail leakbench shows.  Arguments after the mode's own are
 * ignored.
 *
 * Built by the Makefile into $(BUILD)/rel/harness/run/target_fixture (a
 * C program, so the tests need nothing beyond the build's own packages).
 */
#include "http_test_server.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("target_fixture: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int usage(void)
{
    say("usage: target_fixture exit N | sleep | silent | serve | ignore-term | fork-serve | "
        "flood BYTES | hog N");
    return 2;
}

/* The mode's numeric argument: a non-negative decimal, or -1. */
static long long number_arg(int argc, char **argv)
{
    if (argc < 3) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(argv[2], &end, 10);
    return errno || end == argv[2] || *end || v < 0 ? -1 : v;
}

/* $PORT, which leakbench sets for a target with a port; -1 without one. */
static int env_port(void)
{
    const char *p = getenv("PORT");
    int port = p ? atoi(p) : 0;
    return port > 0 && port < 65536 ? port : -1;
}

static lb_test_server server;

/* Listens on $PORT; answers requests unless backlog_only.  Exits 1 when it
 * cannot. */
static void listen_on_port(bool backlog_only, const char *mode)
{
    int port = env_port();
    if (port < 0) {
        say("%s: no $PORT (give the target a port)", mode);
        exit(2);
    }
    int rc = lb_ts_start_port(&server, NULL, port, backlog_only);
    if (rc < 0) {
        say("%s: cannot listen on 127.0.0.1:%d: %s", mode, port, strerror(-rc));
        exit(1);
    }
    say("%s: listening on 127.0.0.1:%d", mode, port);
}

/* Waits for one of the signals in `stops` (blocked by the caller before
 * any thread was started) and exits 0, as a server that shuts down does. */
static void *stop_on_signal(void *arg)
{
    const sigset_t *stops = arg;
    int sig = 0;
    while (sigwait(stops, &sig) != 0) continue;
    say("%s: exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    _exit(0);
}

/* Serves until a stop signal (SIGTERM and SIGINT, or only SIGINT when
 * SIGTERM is ignored); the calling thread then runs `then` (NULL: waits). */
static int serve(const char *mode, bool ignore_term, void (*then)(long long), long long arg)
{
    static sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    if (ignore_term)
        signal(SIGTERM, SIG_IGN);
    else
        sigaddset(&stops, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stops, NULL); /* every thread inherits the mask */
    listen_on_port(false, mode);
    pthread_t waiter;
    if (pthread_create(&waiter, NULL, stop_on_signal, &stops) != 0) {
        say("%s: cannot start the signal thread", mode);
        return 1;
    }
    if (then) then(arg);
    for (;;) pause();
}

/* hog: once n requests came in (so the load has begun, whatever the
 * machine's speed), 1 MiB more resident every millisecond. */
static void hog(long long n)
{
    while (atomic_load(&server.requests) < n) usleep(1000);
    say("hog: %lld requests in; allocating 1 MiB per millisecond", n);
    for (;;) {
        char *p = malloc(1 << 20);
        if (p) memset(p, 1, 1 << 20);
        usleep(1000);
    }
}

/* flood: BYTES of lines on stdout, then FLOOD-END. */
static void flood(long long bytes)
{
    static char block[65536];
    for (size_t i = 0; i < sizeof block; i++) block[i] = i % 64 == 63 ? '\n' : 'f';
    for (long long left = bytes; left > 0;) {
        size_t n = left < (long long)sizeof block ? (size_t)left : sizeof block;
        if (fwrite(block, 1, n, stdout) != n) {
            say("flood: stdout: %s", strerror(errno));
            exit(1);
        }
        left -= (long long)n;
    }
    fputs("\nFLOOD-END\n", stdout);
    fflush(stdout);
    say("flood: wrote %lld bytes to stdout", bytes);
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage();
    const char *mode = argv[1];
    long long n = number_arg(argc, argv);
    if (!strcmp(mode, "exit")) {
        if (n < 0 || n > 255) return usage();
        say("exit: exiting with status %lld", n);
        return (int)n;
    }
    if (!strcmp(mode, "sleep")) {
        say("sleep: never listening");
        for (;;) pause();
    }
    if (!strcmp(mode, "silent")) {
        listen_on_port(true, mode);
        for (;;) pause();
    }
    if (!strcmp(mode, "serve")) return serve(mode, false, NULL, 0);
    if (!strcmp(mode, "ignore-term")) return serve(mode, true, NULL, 0);
    if (!strcmp(mode, "fork-serve")) {
        pid_t child = fork();
        if (child < 0) {
            say("fork-serve: fork: %s", strerror(errno));
            return 1;
        }
        if (child == 0) return serve(mode, false, NULL, 0);
        say("fork-serve: forked server %d; the started process exits", (int)child);
        return 0;
    }
    if (!strcmp(mode, "flood")) {
        if (n < 0) return usage();
        flood(n);
        return serve(mode, false, NULL, 0);
    }
    if (!strcmp(mode, "hog")) {
        if (n < 0) return usage();
        return serve(mode, false, hog, n);
    }
    return usage();
}
