/*
 * outfile_test.c — writing the paths a user names (outfile.h): a symlink
 * is followed and kept, a dangling one creates its target, a character
 * device stays a device (the bug: `--junit /dev/null` as root turned
 * /dev/null into a regular file), a FIFO is written through to its reader
 * and one with no reader is a prompt error, a directory is refused; and
 * lb_check_user_file finds unwritable places before anything runs.
 *
 * The device case uses a private null device made with mknod in the
 * scratch directory when the test runs as root (as CI does), so a
 * regression replaces only that node, never the machine's /dev/null;
 * without root it uses /dev/null, which a regression could not replace.
 */
#include "outfile.h"
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

static char dir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(dir, sizeof dir, "outfile");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(dir);
}

static void assert_file_text(const char *path, const char *want)
{
    char *got = lb_test_slurp(path);
    assert_non_null(got);
    assert_string_equal(got, want);
}

static void a_symlink_is_followed_and_kept(void **state)
{
    (void)state;
    char link[128], target[128], err[512];
    snprintf(target, sizeof target, "%s/real.xml", dir);
    snprintf(link, sizeof link, "%s/link.xml", dir);
    FILE *f = fopen(target, "w");
    assert_non_null(f);
    fputs("old", f);
    fclose(f);
    assert_int_equal(symlink("real.xml", link), 0);

    assert_int_equal(lb_check_user_file(link, err, sizeof err), 0);
    assert_int_equal(lb_write_user_file(link, "new", 3, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_file_text(target, "new");

    /* A dangling link creates its target beside it. */
    char dangling[128], created[128];
    snprintf(dangling, sizeof dangling, "%s/dangling.xml", dir);
    snprintf(created, sizeof created, "%s/created.xml", dir);
    assert_int_equal(symlink("created.xml", dangling), 0);
    assert_int_equal(lb_write_user_file(dangling, "made", 4, err, sizeof err), 0);
    assert_int_equal(lstat(dangling, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_file_text(created, "made");
}

static void a_character_device_is_written_through_never_replaced(void **state)
{
    (void)state;
    char node[128], err[512];
    if (geteuid() == 0) {
        snprintf(node, sizeof node, "%s/null", dir);
        assert_int_equal(mknod(node, S_IFCHR | 0666, makedev(1, 3)), 0);
    } else {
        snprintf(node, sizeof node, "/dev/null");
    }
    assert_int_equal(lb_check_user_file(node, err, sizeof err), 0);
    assert_int_equal(lb_write_user_file(node, "<testsuites/>", 13, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(node, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

typedef struct fifo_reader {
    char path[128];
    char got[64];
} fifo_reader;

static void *read_fifo(void *arg)
{
    fifo_reader *r = arg;
    FILE *f = fopen(r->path, "r"); /* blocks until the writer opens */
    if (f) {
        size_t n = fread(r->got, 1, sizeof r->got - 1, f);
        r->got[n] = 0;
        fclose(f);
    }
    return NULL;
}

static void a_fifo_is_written_to_its_reader(void **state)
{
    (void)state;
    fifo_reader r = {0};
    snprintf(r.path, sizeof r.path, "%s/fifo", dir);
    assert_int_equal(mkfifo(r.path, 0600), 0);
    char err[512];

    /* No reader: an error at once, not a blocked run. */
    assert_int_equal(lb_write_user_file(r.path, "x", 1, err, sizeof err), -ENXIO);
    assert_non_null(strstr(err, "a FIFO with no reader"));

    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_fifo, &r), 0);
    int rc;
    struct timespec pause = {0, 10 * 1000 * 1000};
    /* The reader may not have opened yet: retry until it has. */
    for (int i = 0; i < 500; i++) {
        rc = lb_write_user_file(r.path, "through", 7, err, sizeof err);
        if (rc != -ENXIO) break;
        nanosleep(&pause, NULL);
    }
    assert_int_equal(rc, 0);
    pthread_join(t, NULL);
    assert_string_equal(r.got, "through");
    struct stat st;
    assert_int_equal(stat(r.path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
}

static void directories_and_unwritable_places_are_refused(void **state)
{
    (void)state;
    char err[512], want[512];
    assert_int_equal(lb_write_user_file(dir, "x", 1, err, sizeof err), -EISDIR);
    snprintf(want, sizeof want, "%s: is a directory, not a file to write", dir);
    assert_string_equal(err, want);
    assert_int_equal(lb_check_user_file(dir, err, sizeof err), -EISDIR);

    /* /proc takes no new files, even from root: found before any run. */
    assert_true(lb_check_user_file("/proc/x.xml", err, sizeof err) < 0);
    assert_non_null(strstr(err, "/proc/x.xml: cannot create a file in /proc: "));

    /* Missing parents are fine: the writers create them. */
    char deep[160];
    snprintf(deep, sizeof deep, "%s/a/b/junit.xml", dir);
    assert_int_equal(lb_check_user_file(deep, err, sizeof err), 0);
    /* ... and the probe leaves nothing behind. */
    char *listing = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&listing, &len);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -A %s", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int c;
    while ((c = fgetc(p)) != EOF) fputc(c, m);
    pclose(p);
    fclose(m);
    assert_string_equal(listing, "");
    free(listing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_symlink_is_followed_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(a_character_device_is_written_through_never_replaced, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_fifo_is_written_to_its_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(directories_and_unwritable_places_are_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
