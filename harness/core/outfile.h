/*
 * outfile.h — writing output files all-or-nothing: the data goes to a
 * temporary file in the destination's directory, is flushed to disk and
 * then renamed over the destination, so a reader (or a CI job that was
 * cancelled half-way) never sees a partial file.
 */
#ifndef LEAKBENCH_OUTFILE_H
#define LEAKBENCH_OUTFILE_H

#include <stddef.h>

/* Writes len bytes to path atomically.  Returns 0 or a negative errno,
 * with a message naming the path in err. */
int lb_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* Creates dir and its missing parents (mode 0777 & ~umask).  0 (also when
 * dir exists as a directory), -ENOTDIR when it exists as something else,
 * or another -errno. */
int lb_mkdir_p(const char *dir);

/* Creates the parent directories of path.  0 or -errno. */
int lb_mkdir_parent(const char *path);

#endif
