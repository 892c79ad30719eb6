/*
 * rundir_test.c — a run directory replaced as a whole (rundir.h): the
 * up-front check refuses an existing directory that no leakbench run
 * wrote, the current directory and its ancestors, and takes a new, empty
 * or earlier run directory; a commit (with RENAME_EXCHANGE and with the
 * two-rename fallback) leaves exactly the new run plus the old entries
 * the new run did not write, and no staging or old directory beside it;
 * a discarded staging directory leaves the old run byte for byte; a
 * symlinked run directory is replaced behind its link, which stays.
 */
#include "rundir.h"
#include "test_util.h"

#include <dirent.h>
#include <sys/stat.h>

static char dir[64];
static char run[128]; /* dir/run: the run directory */

static void put(const char *in, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", in, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *get(const char *in, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", in, name);
    return lb_test_slurp(path);
}

static bool exists(const char *in, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", in, name);
    return lstat(path, &st) == 0;
}

/* Entries of D other than . and .. */
static int entries(const char *d)
{
    DIR *dd = opendir(d);
    assert_non_null(dd);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(dd);
    return n;
}

#define OLD_RESULTS "{\"schema\": \"leakbench-results\", \"run\": \"old\"}\n"

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(dir, sizeof dir, "rundir");
    snprintf(run, sizeof run, "%s/run", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(dir);
}

static void an_old_run(void)
{
    assert_int_equal(mkdir(run, 0755), 0);
    put(run, "results.json", OLD_RESULTS);
    put(run, "samples.csv", "old samples\n");
    char charts[256];
    snprintf(charts, sizeof charts, "%s/charts", run);
    assert_int_equal(mkdir(charts, 0755), 0);
    put(charts, "old.png", "old chart");
    put(run, "junit.xml", "kept: the user's");
}

static void check_takes_new_empty_and_earlier_run_directories(void **state)
{
    (void)state;
    char err[1024];
    assert_int_equal(lb_rundir_check(run, err, sizeof err), 0); /* new: created, empty */
    assert_int_equal(entries(run), 0);
    assert_int_equal(lb_rundir_check(run, err, sizeof err), 0); /* empty */
    put(run, "results.json", OLD_RESULTS);
    put(run, "notes.txt", "mine");
    assert_int_equal(lb_rundir_check(run, err, sizeof err), 0); /* an earlier run */
    assert_int_equal(entries(run), 2);                          /* no probe left */
    assert_int_equal(entries(dir), 1);
}

static void check_refuses_what_it_must_not_replace(void **state)
{
    (void)state;
    char err[1024], want[512];
    assert_int_equal(mkdir(run, 0755), 0);
    put(run, "thesis.tex", "years of work");
    assert_int_equal(lb_rundir_check(run, err, sizeof err), -EEXIST);
    snprintf(want, sizeof want,
             "-o %s: exists and is not a leakbench run directory (it holds 'thesis.tex' and no "
             "results.json from an earlier run)",
             run);
    assert_non_null(strstr(err, want));
    /* A results.json that is not leakbench's is no run directory either. */
    put(run, "results.json", "{\"grades\": [1, 2]}");
    assert_int_equal(lb_rundir_check(run, err, sizeof err), -EEXIST);
    assert_string_equal(get(run, "thesis.tex"), "years of work");

    /* The current directory and its ancestors. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    put(run, "results.json", OLD_RESULTS);
    assert_int_equal(chdir(run), 0);
    int here = lb_rundir_check(".", err, sizeof err);
    char here_err[1024];
    snprintf(here_err, sizeof here_err, "%s", err);
    int above = lb_rundir_check(dir, err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(here, -EEXIST);
    assert_non_null(strstr(here_err, "-o .: is the current directory"));
    assert_int_equal(above, -EEXIST);
    assert_int_equal(lb_rundir_check("/", err, sizeof err), -EEXIST);
}

/* The run directory holds the new run, the user's junit.xml, and nothing
 * of the old run; nothing is left beside it. */
static void assert_new_run_in_place(void)
{
    assert_string_equal(get(run, "results.json"), "new results");
    assert_string_equal(get(run, "samples.csv"), "new samples\n");
    assert_string_equal(get(run, "junit.xml"), "kept: the user's");
    assert_false(exists(run, "charts"));
    assert_int_equal(entries(run), 3);
    assert_int_equal(entries(dir), 1);
}

static void commit(int flags)
{
    char err[1024];
    lb_rundir rd;
    an_old_run();
    assert_int_equal(lb_rundir_stage(&rd, run, err, sizeof err), 0);
    put(rd.stage, "results.json", "new results");
    put(rd.stage, "samples.csv", "new samples\n");
    assert_string_equal(get(run, "results.json"), OLD_RESULTS); /* not yet */
    assert_int_equal(lb_rundir_commit(&rd, flags, err, sizeof err), 0);
    assert_string_equal(rd.stage, "");
    assert_new_run_in_place();
}

static void commit_by_exchange_replaces_the_whole_run(void **state)
{
    (void)state;
    commit(0);
}

static void commit_by_two_renames_replaces_the_whole_run(void **state)
{
    (void)state;
    commit(LB_RUNDIR_NO_EXCHANGE);
}

static void commit_into_a_missing_directory(void **state)
{
    (void)state;
    char err[1024];
    lb_rundir rd;
    assert_int_equal(lb_rundir_stage(&rd, run, err, sizeof err), 0);
    put(rd.stage, "results.json", "new results");
    assert_int_equal(rmdir(run), 0); /* gone meanwhile */
    assert_int_equal(lb_rundir_commit(&rd, 0, err, sizeof err), 0);
    assert_string_equal(get(run, "results.json"), "new results");
    assert_int_equal(entries(dir), 1);
}

static void discard_leaves_the_old_run_as_it_was(void **state)
{
    (void)state;
    char err[1024];
    lb_rundir rd;
    an_old_run();
    assert_int_equal(lb_rundir_stage(&rd, run, err, sizeof err), 0);
    put(rd.stage, "results.json", "half a new run");
    lb_rundir_discard(&rd);
    assert_string_equal(get(run, "results.json"), OLD_RESULTS);
    assert_string_equal(get(run, "samples.csv"), "old samples\n");
    assert_int_equal(entries(run), 4);
    assert_int_equal(entries(dir), 1);
    lb_rundir_discard(&rd); /* twice is harmless */
}

static void a_symlinked_run_directory_is_replaced_behind_its_link(void **state)
{
    (void)state;
    char err[1024], link[160];
    an_old_run();
    snprintf(link, sizeof link, "%s/latest", dir);
    assert_int_equal(symlink("run", link), 0);
    lb_rundir rd;
    assert_int_equal(lb_rundir_check(link, err, sizeof err), 0);
    assert_int_equal(lb_rundir_stage(&rd, link, err, sizeof err), 0);
    put(rd.stage, "results.json", "new results");
    put(rd.stage, "samples.csv", "new samples\n");
    assert_int_equal(lb_rundir_commit(&rd, 0, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(entries(dir), 2);
    assert_string_equal(get(link, "results.json"), "new results");
    assert_string_equal(get(run, "junit.xml"), "kept: the user's");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(check_takes_new_empty_and_earlier_run_directories, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(check_refuses_what_it_must_not_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_by_exchange_replaces_the_whole_run, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_by_two_renames_replaces_the_whole_run, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(commit_into_a_missing_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(discard_leaves_the_old_run_as_it_was, setup, teardown),
        cmocka_unit_test_setup_teardown(a_symlinked_run_directory_is_replaced_behind_its_link,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
