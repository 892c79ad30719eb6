/*
 * infile_test.c — lb_read_file (infile.h) on every kind of path a user can
 * name as an input: a regular file, an empty one, one over the size limit,
 * a missing one, a directory, a character device, a FIFO fed by a writer,
 * a FIFO nobody writes to (issue: `validate FIFO` blocked forever), and
 * the spec loader on that FIFO.
 */
#include "infile.h"
#include "spec.h"
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static char dir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(dir, sizeof dir, "infile");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(dir);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void regular_files_are_read_whole(void **state)
{
    (void)state;
    char path[128], err[256], *buf;
    size_t len;
    snprintf(path, sizeof path, "%s/a.json", dir);
    write_text(path, "{\"scenario\": \"timeout_leak\"}");
    assert_int_equal(lb_read_file(path, 1024, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, 28);
    assert_string_equal(buf, "{\"scenario\": \"timeout_leak\"}");
    free(buf);

    write_text(path, "");
    assert_int_equal(lb_read_file(path, 1024, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
}

static void over_the_limit_is_refused(void **state)
{
    (void)state;
    char path[128], err[256], *buf;
    size_t len;
    snprintf(path, sizeof path, "%s/big", dir);
    write_text(path, "0123456789");
    assert_int_equal(lb_read_file(path, 9, &buf, &len, err, sizeof err), -EFBIG);
    assert_null(buf);
    assert_non_null(strstr(err, "10 bytes, more than the 9 accepted"));
    assert_int_equal(lb_read_file(path, 10, &buf, &len, err, sizeof err), 0);
    free(buf);
}

static void missing_directory_and_device_name_the_path(void **state)
{
    (void)state;
    char path[128], want[256], err[256], *buf;
    size_t len;
    snprintf(path, sizeof path, "%s/absent.json", dir);
    assert_int_equal(lb_read_file(path, 1024, &buf, &len, err, sizeof err), -ENOENT);
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    assert_string_equal(err, want);

    assert_int_equal(lb_read_file(dir, 1024, &buf, &len, err, sizeof err), -EISDIR);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", dir);
    assert_string_equal(err, want);

    assert_int_equal(lb_read_file("/dev/null", 1024, &buf, &len, err, sizeof err), -EINVAL);
    assert_string_equal(err, "/dev/null: cannot read: it is a character device, not a file");
}

typedef struct fifo_writer {
    char path[128];
    const char *text;
} fifo_writer;

static void *write_fifo(void *arg)
{
    fifo_writer *w = arg;
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL); /* the reader opens first and must wait */
    FILE *f = fopen(w->path, "w");
    if (f) {
        fputs(w->text, f);
        fclose(f);
    }
    return NULL;
}

static void a_fifo_with_a_writer_is_read_to_its_end(void **state)
{
    (void)state;
    fifo_writer w = {.text = "{\"scenario\": \"timeout_leak\"}"};
    snprintf(w.path, sizeof w.path, "%s/fifo", dir);
    assert_int_equal(mkfifo(w.path, 0600), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_fifo, &w), 0);
    char err[256], *buf;
    size_t len;
    int rc = lb_read_file(w.path, 1024, &buf, &len, err, sizeof err);
    pthread_join(t, NULL);
    if (rc) fail_msg("%s", err);
    assert_string_equal(buf, w.text);
    free(buf);
}

static void a_fifo_nobody_writes_to_is_an_error_not_a_hang(void **state)
{
    (void)state;
    char path[128], err[256], *buf;
    size_t len;
    snprintf(path, sizeof path, "%s/silent", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    /* The test's 60 s alarm fails it if this blocks. */
    assert_int_equal(lb_read_file(path, 1024, &buf, &len, err, sizeof err), -ETIMEDOUT);
    assert_non_null(strstr(err, "no data arrived for 5000 ms"));

    /* The spec loader (validate, run) goes through it. */
    lb_spec spec;
    lb_spec_error e;
    assert_int_equal(lb_spec_load(path, &spec, &e), -ETIMEDOUT);
    assert_non_null(strstr(e.text, path));
    assert_non_null(strstr(e.text, "no data arrived"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(regular_files_are_read_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(over_the_limit_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_directory_and_device_name_the_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_fifo_with_a_writer_is_read_to_its_end, setup, teardown),
        cmocka_unit_test_setup_teardown(a_fifo_nobody_writes_to_is_an_error_not_a_hang, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
