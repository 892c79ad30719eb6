/*
 * rundir.h — a run directory replaced as a whole: `leakbench run -o DIR`
 * leaves DIR either as it was or as the complete new run, never a mix of
 * the two (a new results.json beside an old samples.csv, say).
 *
 * Everything a run writes (results.json, samples.csv, report.md,
 * report.html, charts/, a target's logs) goes into a staging directory DIR.tmp.XXXXXX
 * beside DIR (same parent, so same filesystem), and only when all of it
 * was written is the staging directory swapped into place:
 *
 *   1. exchange   renameat2(staging, DIR, RENAME_EXCHANGE): one atomic
 *                 step; DIR is the new run, the staging name now holds
 *                 the old one.  Where the filesystem has no exchange
 *                 (EINVAL, ENOSYS), two renames instead: DIR to
 *                 DIR.old.XXXXXX, then staging to DIR.
 *   2. carry over entries of the old DIR that no run writes (a --junit
 *                 or --history file kept in DIR, notes of the user's)
 *                 are renamed into the new DIR; the old results, samples,
 *                 report, charts and target logs never are (a --no-report
 *                 run leaves no old report beside its results).
 *   3. remove     the old directory and what is left in it.
 *
 * What a crash (power cut, SIGKILL) leaves at each point: during the run
 * and before step 1, DIR is the old run and DIR.tmp.XXXXXX a partial new
 * one (delete it); after step 1, DIR is the complete new run and the
 * leftover DIR.tmp.XXXXXX (or DIR.old.XXXXXX) the old one, possibly
 * without the entries already carried over; between the two renames of
 * the fallback, DIR is missing, DIR.old.XXXXXX is the old run and
 * DIR.tmp.XXXXXX the complete new one.  A failed write discards the
 * staging directory and leaves DIR untouched.
 *
 * Because DIR is replaced, not written into, leakbench only takes a DIR
 * that is new, empty, or a run directory an earlier run wrote (its
 * results.json says "leakbench-results"); any other existing directory
 * is refused, as are the current directory and its ancestors (a shell
 * sitting in the old DIR would be left in a deleted directory) and a
 * mount point (it cannot be renamed).  A symlink DIR is followed: the
 * directory it points to is the one replaced, and the link stays.
 */
#ifndef LEAKBENCH_RUNDIR_H
#define LEAKBENCH_RUNDIR_H

#include <limits.h>
#include <stddef.h>

typedef struct lb_rundir {
    char dir[PATH_MAX];   /* the run directory (a symlink resolved) */
    char stage[PATH_MAX]; /* its staging directory, "" when none */
} lb_rundir;

/* Before anything runs: DIR can be replaced as a whole (see above).
 * Creates DIR, empty, when it is missing (so files the user names inside
 * it can be checked and written like any other).  0 or a negative errno,
 * with "-o DIR: REASON" in err. */
int lb_rundir_check(const char *dir, char *err, size_t errlen);

/* Creates DIR's staging directory; rd->stage is where to write.  0 or a
 * negative errno with a message in err. */
int lb_rundir_stage(lb_rundir *rd, const char *dir, char *err, size_t errlen);

/* lb_rundir_commit's flags. */
enum {
    LB_RUNDIR_NO_EXCHANGE = 1, /* use the two-rename fallback (for tests) */
};

/* Swaps the staging directory into place (steps 1-3 above).  0, or a
 * negative errno with a message in err: before step 1 DIR is untouched
 * and the staging directory is discarded; after it, DIR is the new run
 * and err says what could not be carried over or removed. */
int lb_rundir_commit(lb_rundir *rd, int flags, char *err, size_t errlen);

/* Removes the staging directory and everything in it (a failed run
 * directory); DIR stays as it was.  A no-op without one. */
void lb_rundir_discard(lb_rundir *rd);

#endif
