/*
 * infile.h — reading an input file (spec, suite, results, history) whole,
 * without ever blocking forever on it.
 *
 * A regular file is read as usual.  A FIFO or pipe (`<(cmd)`, /dev/stdin
 * from a pipe) is opened without blocking and read until end of file, but
 * only while data keeps arriving: when no writer sends anything for
 * LB_INFILE_IDLE_MS the read ends with a clear error, instead of the
 * process hanging on a FIFO nobody writes to.  Directories, devices and
 * sockets are refused with a message saying what the path is.  Files
 * larger than the caller's limit are refused before they are read whole.
 */
#ifndef LEAKBENCH_INFILE_H
#define LEAKBENCH_INFILE_H

#include <stddef.h>

/* How long a FIFO or pipe may stay silent before the read gives up. */
#define LB_INFILE_IDLE_MS 5000

/* Reads PATH into a new NUL-terminated buffer (*out, free() it; *len
 * without the NUL).  At most MAX_BYTES are accepted.  Returns 0, or a
 * negative errno with "PATH: cannot read: REASON" in err:
 *   -ENOENT, -EACCES, ... from open;  -EISDIR for a directory;
 *   -EINVAL for a device or socket ("is a character device, not a file");
 *   -ETIMEDOUT for a FIFO or pipe that stayed silent;
 *   -EFBIG past MAX_BYTES. */
int lb_read_file(const char *path, size_t max_bytes, char **out, size_t *len, char *err,
                 size_t errlen);

#endif
