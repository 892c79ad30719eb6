/*
 * sampler_test.c — the /proc readers on a live process (this one): RSS,
 * OS threads and CPU time are read, the thread count follows threads
 * being started, and the CPU time is only refreshed when asked for (it is
 * the expensive read) and carried over otherwise.
 */
#include "sampler.h"
#include "core/test_util.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *wait_at_gate(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return NULL;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void burn_cpu(double seconds)
{
    double until = thread_cpu_s() + seconds;
    volatile unsigned long x = 0;
    while (thread_cpu_s() < until) x++;
}

static void reads_rss_threads_and_cpu(void **state)
{
    (void)state;
    lb_proc p;
    assert_int_equal(lb_proc_open(&p, getpid()), 0);
    lb_sample s;
    memset(&s, 0, sizeof s);
    assert_int_equal(lb_proc_read(&p, &s, true), 0);
    assert_true(s.rss_bytes > 0);
    int64_t threads_before = s.threads;
    assert_true(threads_before >= 1);

    pthread_mutex_lock(&gate);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, wait_at_gate, NULL), 0);
    assert_int_equal(lb_proc_read(&p, &s, false), 0);
    assert_int_equal(s.threads, threads_before + 3);
    pthread_mutex_unlock(&gate);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);

    /* CPU time: carried over without read_cpu, refreshed with it. */
    assert_int_equal(lb_proc_read(&p, &s, true), 0);
    double cpu0 = s.cpu_s;
    burn_cpu(0.1);
    assert_int_equal(lb_proc_read(&p, &s, false), 0);
    assert_near(s.cpu_s, cpu0, 0);
    assert_int_equal(lb_proc_read(&p, &s, true), 0);
    assert_true(s.cpu_s >= cpu0 + 0.05);
    lb_proc_close(&p);
}

static void a_process_that_is_gone_is_an_error(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pause();
        _exit(0);
    }
    lb_proc p;
    assert_int_equal(lb_proc_open(&p, pid), 0);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    lb_sample s;
    assert_true(lb_proc_read(&p, &s, true) < 0);
    lb_proc_close(&p);
    assert_true(lb_proc_open(&p, pid) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(reads_rss_threads_and_cpu, lb_test_arm_timeout),
        cmocka_unit_test_setup(a_process_that_is_gone_is_an_error, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
