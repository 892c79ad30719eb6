/*
 * outfile.h — writing output files all-or-nothing: the data goes to a
 * temporary file in the destination's directory, is flushed to disk and
 * then renamed over the destination, so a reader (or a CI job that was
 * cancelled half-way) never sees a partial file.
 *
 * That is right for the files of a run directory, which leakbench owns.
 * A path the user names on the command line (--junit, --markdown,
 * --history) may be something else: /dev/null, a FIFO a CI step reads,
 * a symlink into an artifacts folder.  Replacing those would turn
 * /dev/null into a regular file for the whole machine, or cut a symlink.
 * lb_write_user_file writes through them instead, and
 * lb_check_user_file finds out before anything runs whether a path can be
 * written at all.
 */
#ifndef LEAKBENCH_OUTFILE_H
#define LEAKBENCH_OUTFILE_H

#include <stddef.h>

/* Writes len bytes to path atomically.  Returns 0 or a negative errno,
 * with a message naming the path in err. */
int lb_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* Writes a file the user named: a new path or a regular file is written
 * atomically (lb_write_atomic); a symlink is followed and its target
 * written the same way (the link stays); a character device or a FIFO is
 * written through in place, never replaced (a FIFO with no reader is an
 * error, not a wait); a directory, block device or socket is refused.
 * 0 or a negative errno, with a message naming the path in err. */
int lb_write_user_file(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* Checks, before any work is done, that lb_write_user_file (or an append)
 * could write PATH: not a directory, block device or socket; a device or
 * FIFO is writable; a new or regular file's directory exists and takes a
 * new file (a temporary probe file is created and removed at once).
 * 0 or a negative errno, with "PATH: REASON" in err. */
int lb_check_user_file(const char *path, char *err, size_t errlen);

/* Creates dir and its missing parents (mode 0777 & ~umask).  0 (also when
 * dir exists as a directory), -ENOTDIR when it exists as something else,
 * or another -errno. */
int lb_mkdir_p(const char *dir);

/* Creates the parent directories of path.  0 or -errno. */
int lb_mkdir_parent(const char *path);

/* Removes PATH and, when it is a directory, everything below it, never
 * following a symlink.  0 or the first -errno. */
int lb_remove_tree(const char *path);

#endif
