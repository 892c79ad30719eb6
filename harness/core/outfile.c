/*
 * outfile.c — atomic file writes (temp file + fsync + rename), writes to
 * paths the user named (which follow symlinks and write through devices
 * and FIFOs instead of replacing them), mkdir -p, rm -r and the up-front
 * check that a run directory can be written (see outfile.h).
 */
#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lb_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -ENAMETOOLONG;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot create a temporary file beside it: %s", path,
                 strerror(e));
        return -e;
    }
    /* mkstemp makes 0600 files; outputs are ordinary readable files. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            snprintf(err, errlen, "%s: write failed: %s", path, strerror(e));
            return -e;
        }
        done += (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        snprintf(err, errlen, "%s: cannot rename the temporary file into place: %s", path,
                 strerror(e));
        return -e;
    }
    return 0;
}

/* Where a user-named PATH really points: itself, or for a symlink its
 * final target (also when the target does not exist yet).  0 or -errno. */
static int resolve_link(const char *path, char *out, size_t n)
{
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode)) {
        if (snprintf(out, n, "%s", path) >= (int)n) return -ENAMETOOLONG;
        return 0;
    }
    char buf[PATH_MAX];
    if (realpath(path, buf)) {
        if (snprintf(out, n, "%s", buf) >= (int)n) return -ENAMETOOLONG;
        return 0;
    }
    if (errno != ENOENT) return -errno;
    /* A dangling link: its target is to be created, beside the link when
     * the target is relative. */
    ssize_t k = readlink(path, buf, sizeof buf - 1);
    if (k < 0) return -errno;
    buf[k] = 0;
    const char *slash = strrchr(path, '/');
    if (buf[0] == '/' || !slash) {
        if (snprintf(out, n, "%s", buf) >= (int)n) return -ENAMETOOLONG;
    } else if (snprintf(out, n, "%.*s/%s", (int)(slash - path), path, buf) >= (int)n) {
        return -ENAMETOOLONG;
    }
    return 0;
}

static const char *refused_kind(mode_t mode)
{
    if (S_ISDIR(mode)) return "is a directory";
    if (S_ISBLK(mode)) return "is a block device";
    if (S_ISSOCK(mode)) return "is a socket";
    return NULL;
}

/* Writes through a character device or FIFO that already exists. */
static int write_through(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    /* Non-blocking open: a FIFO with no reader fails (ENXIO) instead of
     * waiting forever; then blocking writes, so a slow reader gets it all. */
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open for writing: %s", path,
                 e == ENXIO ? "a FIFO with no reader" : strerror(e));
        return -e;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            snprintf(err, errlen, "%s: write failed: %s", path, strerror(e));
            return -e;
        }
        done += (size_t)w;
    }
    if (close(fd) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(e));
        return -e;
    }
    return 0;
}

/* Where a user-named PATH leads and what is there: 0 for a new or
 * regular file at target (written atomically), 1 for a character device
 * or FIFO (written in place), or -errno when it is refused (err set). */
static int classify_user_path(const char *path, char *target, size_t n, char *err, size_t errlen)
{
    int rc = resolve_link(path, target, n);
    if (rc) {
        snprintf(err, errlen, "%s: cannot follow the link: %s", path, strerror(-rc));
        return rc;
    }
    struct stat st;
    if (stat(target, &st) != 0) return 0;
    const char *kind = refused_kind(st.st_mode);
    if (kind) {
        snprintf(err, errlen, "%s: %s, not a file to write", path, kind);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    return S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode);
}

int lb_write_user_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char target[PATH_MAX];
    int rc = classify_user_path(path, target, sizeof target, err, errlen);
    if (rc < 0) return rc;
    if (rc == 1) return write_through(path, data, len, err, errlen);
    rc = lb_write_atomic(target, data, len, err, errlen);
    if (rc && strcmp(target, path)) {
        /* Say which link the failing target came from. */
        char inner[512];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "%s (a link to %s): %s", path, target, inner);
    }
    return rc;
}

int lb_check_user_file(const char *path, char *err, size_t errlen)
{
    char target[PATH_MAX];
    int rc = classify_user_path(path, target, sizeof target, err, errlen);
    if (rc < 0) return rc;
    if (rc == 1) {
        if (access(target, W_OK) < 0) {
            int e = errno;
            snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
            return -e;
        }
        return 0;
    }
    struct stat st;
    /* A new or regular file: its directory must take a new file, because
     * the write goes to a temporary file beside it.  Missing parents are
     * created by the writers, so the nearest existing ancestor is what
     * must take one. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", target);
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash) {
            snprintf(dir, sizeof dir, ".");
        } else if (slash == dir) {
            dir[1] = 0;
        } else {
            *slash = 0;
        }
        if (stat(dir, &st) == 0 || errno != ENOENT || !strcmp(dir, ".") || !strcmp(dir, "/")) break;
    }
    char probe[PATH_MAX];
    if (snprintf(probe, sizeof probe, "%s/.leakbench-probe.XXXXXX", dir) >= (int)sizeof probe) {
        snprintf(err, errlen, "%s: path too long", path);
        return -ENAMETOOLONG;
    }
    int fd = mkstemp(probe);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot create a file in %s: %s", path, dir, strerror(e));
        return -e;
    }
    close(fd);
    unlink(probe);
    return 0;
}

int lb_mkdir_p(const char *dir)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) < 0 && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0777) < 0) {
        if (errno != EEXIST) return -errno;
        /* EEXIST also when dir is a file: that is no directory to write in. */
        struct stat st;
        if (stat(buf, &st) < 0) return -errno;
        if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
    }
    return 0;
}

int lb_mkdir_parent(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -ENAMETOOLONG;
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = 0;
    return lb_mkdir_p(buf);
}

/* Removes NAME in the directory DIRFD, recursively, never following a
 * symlink. */
static int remove_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode)) return unlinkat(dirfd, name, 0) == 0 ? 0 : -errno;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        int r = remove_at(fd, e->d_name);
        if (r && !rc) rc = r;
    }
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && !rc) rc = -errno;
    return rc;
}

int lb_remove_tree(const char *path)
{
    return remove_at(AT_FDCWD, path);
}
