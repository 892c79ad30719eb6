/*
 * rundir.c — a run directory replaced as a whole: the up-front check of
 * `-o DIR`, the staging directory beside it, the swap and the removal of
 * the old run (rundir.h has the protocol and what a crash leaves).
 */
#include "rundir.h"
#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The parent directory of the absolute path PATH ("/" for "/x"). */
static void parent_of(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == out)
        out[1] = 0;
    else if (slash)
        *slash = 0;
}

/* True when DIR's results.json is one leakbench wrote. */
static bool holds_leakbench_results(const char *dir)
{
    char path[PATH_MAX + 16], head[4097];
    snprintf(path, sizeof path, "%s/results.json", dir);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    ssize_t got = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, head, sizeof head - 1) : -1;
    close(fd);
    if (got <= 0) return false;
    head[got] = 0;
    return strstr(head, "\"leakbench-results\"") != NULL;
}

/* The first entry of DIR other than . and .. into first (empty when DIR
 * is empty).  0 or -errno. */
static int first_entry(const char *dir, char *first, size_t n)
{
    first[0] = 0;
    DIR *d = opendir(dir);
    if (!d) return -errno;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(first, n, "%s", e->d_name);
            break;
        }
    closedir(d);
    return 0;
}

/* Creates and removes a probe in DIR: mkstemp for a file, mkdtemp for a
 * directory.  0 or -errno. */
static int probe(const char *dir, bool directory)
{
    char path[PATH_MAX + 32];
    if (snprintf(path, sizeof path, "%s/.leakbench-probe.XXXXXX", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    if (directory) {
        if (!mkdtemp(path)) return -errno;
        rmdir(path);
        return 0;
    }
    int fd = mkstemp(path);
    if (fd < 0) return -errno;
    close(fd);
    unlink(path);
    return 0;
}

/* Why DIR (absolute, existing) cannot be replaced as a whole, or NULL. */
static const char *not_replaceable(const char *dir, char *why, size_t n)
{
    char cwd[PATH_MAX], parent[PATH_MAX];
    size_t len = strlen(dir);
    if (!strcmp(dir, "/")) return "is the root directory";
    if (getcwd(cwd, sizeof cwd) && !strncmp(cwd, dir, len) && (cwd[len] == 0 || cwd[len] == '/')) {
        snprintf(why, n,
                 "%s the current directory; leakbench replaces a run directory as a whole, so "
                 "name one below it",
                 cwd[len] ? "holds" : "is");
        return why;
    }
    struct stat st, up;
    parent_of(dir, parent, sizeof parent);
    if (stat(dir, &st) == 0 && stat(parent, &up) == 0 && st.st_dev != up.st_dev)
        return "is a mount point; leakbench replaces a run directory as a whole, so name a "
               "directory inside it";
    char first[256];
    if (first_entry(dir, first, sizeof first) == 0 && first[0] && !holds_leakbench_results(dir)) {
        snprintf(why, n,
                 "exists and is not a leakbench run directory (it holds '%.100s' and no "
                 "results.json from an earlier run); leakbench replaces a run directory as a "
                 "whole, so name a new or empty directory",
                 first);
        return why;
    }
    return NULL;
}

int lb_rundir_check(const char *dir, char *err, size_t errlen)
{
    int rc = lb_mkdir_p(dir);
    if (rc) {
        snprintf(err, errlen, "-o %s: cannot create the output directory: %s", dir, strerror(-rc));
        return rc;
    }
    char real[PATH_MAX], parent[PATH_MAX], why[512];
    if (!realpath(dir, real)) {
        rc = -errno;
        snprintf(err, errlen, "-o %s: %s", dir, strerror(-rc));
        return rc;
    }
    const char *refused = not_replaceable(real, why, sizeof why);
    if (refused) {
        snprintf(err, errlen, "-o %s: %s", dir, refused);
        return -EEXIST;
    }
    if ((rc = probe(real, false)) != 0) {
        snprintf(err, errlen, "-o %s: cannot write in the output directory: %s", dir,
                 strerror(-rc));
        return rc;
    }
    parent_of(real, parent, sizeof parent);
    if ((rc = probe(parent, true)) != 0) {
        snprintf(err, errlen, "-o %s: cannot create the staging directory beside it in %s: %s", dir,
                 parent, strerror(-rc));
        return rc;
    }
    return 0;
}

int lb_rundir_stage(lb_rundir *rd, const char *dir, char *err, size_t errlen)
{
    memset(rd, 0, sizeof *rd);
    int rc = lb_mkdir_p(dir);
    if (rc || !realpath(dir, rd->dir)) {
        rc = rc ? rc : -errno;
        snprintf(err, errlen, "%s: cannot create the output directory: %s", dir, strerror(-rc));
        return rc;
    }
    if (snprintf(rd->stage, sizeof rd->stage, "%s.tmp.XXXXXX", rd->dir) >= (int)sizeof rd->stage) {
        rd->stage[0] = 0;
        snprintf(err, errlen, "%s: path too long", dir);
        return -ENAMETOOLONG;
    }
    if (!mkdtemp(rd->stage)) {
        rc = -errno;
        snprintf(err, errlen, "%s: cannot create a staging directory beside it: %s", dir,
                 strerror(-rc));
        rd->stage[0] = 0;
        return rc;
    }
    /* mkdtemp makes 0700; a run directory is an ordinary readable one. */
    mode_t mask = umask(0);
    umask(mask);
    (void)chmod(rd->stage, 0777 & ~mask);
    return 0;
}

/* Step 1: the staging directory becomes DIR; the old DIR's content ends
 * up in OLD ("" when there was none).  0 or -errno, DIR untouched. */
static int swap_in(lb_rundir *rd, int flags, char *old, size_t n)
{
    old[0] = 0;
    if (!(flags & LB_RUNDIR_NO_EXCHANGE)) {
        if (renameat2(AT_FDCWD, rd->stage, AT_FDCWD, rd->dir, RENAME_EXCHANGE) == 0) {
            snprintf(old, n, "%s", rd->stage);
            return 0;
        }
        if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != ENOENT)
            return -errno;
    }
    struct stat st;
    if (lstat(rd->dir, &st) != 0) return rename(rd->stage, rd->dir) == 0 ? 0 : -errno;
    if (snprintf(old, n, "%s.old.XXXXXX", rd->dir) >= (int)n) {
        old[0] = 0;
        return -ENAMETOOLONG;
    }
    if (!mkdtemp(old)) {
        int e = errno;
        old[0] = 0;
        return -e;
    }
    if (rename(rd->dir, old) != 0) { /* onto the empty directory just made */
        int e = errno;
        rmdir(old);
        old[0] = 0;
        return -e;
    }
    if (rename(rd->stage, rd->dir) != 0) {
        int e = errno;
        if (rename(old, rd->dir) == 0) old[0] = 0;
        return -e;
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* The names a run writes into its directory (results.h, report.h, a
 * target's NAME-VARIANT-repN-stdout.log and -stderr.log) and the staging
 * names of their writers: the old run's are never carried over, so a
 * --no-report run does not keep the old report beside the new results. */
static bool written_by_a_run(const char *name)
{
    if (ends_with(name, "-stdout.log") || ends_with(name, "-stderr.log")) return true;
    static const char *const owned[] = {"results.json", "samples.csv", "report.md", "report.html",
                                        "charts"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        size_t n = strlen(owned[i]);
        if (!strncmp(name, owned[i], n) && (name[n] == 0 || !strncmp(name + n, ".tmp.", 5)))
            return true;
    }
    return false;
}

/* Step 2: entries of OLD that DIR does not have and that no run writes
 * move into DIR.  0 or the first -errno (the rest are still tried). */
static int carry_over(const char *old, const char *dir, char *what, size_t n)
{
    int to = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (to < 0) return -errno;
    DIR *d = opendir(old);
    if (!d) {
        int e = errno;
        close(to);
        return -e;
    }
    int from = dirfd(d), rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || written_by_a_run(e->d_name))
            continue;
        struct stat st;
        if (fstatat(to, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) continue; /* the new run's */
        if (renameat(from, e->d_name, to, e->d_name) != 0 && !rc) {
            rc = -errno;
            snprintf(what, n, "%s", e->d_name);
        }
    }
    closedir(d);
    close(to);
    return rc;
}

int lb_rundir_commit(lb_rundir *rd, int flags, char *err, size_t errlen)
{
    char old[PATH_MAX + 16], what[256] = "";
    int rc = swap_in(rd, flags, old, sizeof old);
    if (rc) {
        snprintf(err, errlen, "%s: cannot move the new run into place: %s (left as it was)",
                 rd->dir, strerror(-rc));
        lb_rundir_discard(rd);
        return rc;
    }
    rd->stage[0] = 0;
    if (!old[0]) return 0;
    rc = carry_over(old, rd->dir, what, sizeof what);
    if (rc) {
        snprintf(err, errlen,
                 "%s: the new run is in place, but %s could not be kept from the old "
                 "one: %s (it is in %s)",
                 rd->dir, what, strerror(-rc), old);
        return rc;
    }
    rc = lb_remove_tree(old);
    if (rc)
        snprintf(err, errlen,
                 "%s: the new run is in place, but the old one could not be removed "
                 "from %s: %s",
                 rd->dir, old, strerror(-rc));
    return rc;
}

void lb_rundir_discard(lb_rundir *rd)
{
    if (!rd->stage[0]) return;
    lb_remove_tree(rd->stage);
    rd->stage[0] = 0;
}
