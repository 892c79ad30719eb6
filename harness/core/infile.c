/*
 * infile.c — reads an input file whole without blocking forever (see
 * infile.h).
 *
 * The file is opened with O_NONBLOCK, so opening a FIFO that has no writer
 * returns at once instead of waiting for one.  What it is then decides the
 * read: a regular file is read to its end; a FIFO or pipe is read with
 * poll() between reads, each wait bounded by LB_INFILE_IDLE_MS.  A FIFO
 * opened before any writer has opened it reports end of file at once, so
 * an empty read is only trusted after the first wait for data.
 */
#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t mode)
{
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

/* Appends up to what is available (or to end of file) to *buf.  Returns
 * bytes read (0 at end of file), -EAGAIN when a pipe has nothing yet, or
 * another negative errno. */
static ssize_t read_some(int fd, char **buf, size_t *len, size_t *cap, size_t max_bytes)
{
    if (*cap - *len < 4096 + 1) {
        size_t ncap = *cap ? *cap * 2 : 16384;
        char *n = realloc(*buf, ncap);
        if (!n) return -ENOMEM;
        *buf = n;
        *cap = ncap;
    }
    size_t room = *cap - *len - 1;
    if (room > max_bytes + 1 - *len) room = max_bytes + 1 - *len;
    ssize_t r = read(fd, *buf + *len, room);
    if (r < 0) return errno == EINTR ? -EAGAIN : -errno;
    *len += (size_t)r;
    return r;
}

int lb_read_file(const char *path, size_t max_bytes, char **out, size_t *len, char *err,
                 size_t errlen)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        return -e;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(EISDIR));
        return -EISDIR;
    }
    int is_pipe = S_ISFIFO(st.st_mode);
    if (!is_pipe && !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: cannot read: it is %s, not a file", path, kind_of(st.st_mode));
        return -EINVAL;
    }
    if (!is_pipe && (size_t)st.st_size > max_bytes) {
        close(fd);
        snprintf(err, errlen, "%s: cannot read: %lld bytes, more than the %zu accepted", path,
                 (long long)st.st_size, max_bytes);
        return -EFBIG;
    }

    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    int waited = 0; /* a FIFO with no writer yet reads as end of file */
    for (;;) {
        ssize_t r = read_some(fd, &buf, &n, &cap, max_bytes);
        if (r > 0) {
            waited = 1;
            if (n > max_bytes) {
                snprintf(err, errlen, "%s: cannot read: more than the %zu bytes accepted", path,
                         max_bytes);
                rc = -EFBIG;
                break;
            }
            continue;
        }
        if (r == 0 && (!is_pipe || waited)) break; /* end of file */
        if (r < 0 && r != -EAGAIN) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror((int)-r));
            rc = (int)r;
            break;
        }
        /* A pipe with nothing to read yet: wait for data or a writer. */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr;
        do pr = poll(&p, 1, LB_INFILE_IDLE_MS);
        while (pr < 0 && errno == EINTR);
        if (pr == 0) {
            snprintf(err, errlen,
                     "%s: cannot read: no data arrived for %d ms (a FIFO nobody writes to?)", path,
                     LB_INFILE_IDLE_MS);
            rc = -ETIMEDOUT;
            break;
        }
        waited = 1;
        if (pr > 0 && (p.revents & POLLHUP) && !(p.revents & POLLIN)) break; /* writer closed */
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    if (!buf && !(buf = malloc(1))) return -ENOMEM;
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}
