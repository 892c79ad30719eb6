/*
 * goleak.h — the leak report of a Go target, from its goroutine profiles,
 * in the built-in leak report's structure (leakreport.h), so the same
 * terminal, Markdown and HTML renderers print it.
 *
 * Inputs: the debug=2 profile taken at the end of settle (wait states,
 * wait minutes, creators), and the debug=1 profiles the go_pprof probe
 * took from the baseline on (lb_go_series), the first of which is the
 * baseline.
 *
 * What counts as leaked (goleak's IgnoreCurrent, by group): goroutines
 * present at the end of settle beyond the group's count at the baseline.
 * Only waiting goroutines count: running, runnable and syscall ones are
 * making progress (the probe's own handler is one of them while the
 * profile is written).  The probe's connection also has a background
 * reader in IO wait (net/http.(*connReader).backgroundRead): one such
 * goroutine is discounted from every profile, snapshots and final alike.
 * A graceful server's pool workers, accept loop and signal handler are
 * there at the baseline and so are not reported; a leaky handler's
 * stranded senders are.  With no baseline every goroutine counts.
 *
 * Groups are keyed by (wait reason, site, creator).  The site is the first
 * frame in the target's own code, by this rule:
 *   1. a frame whose file is under own_dir (the target's working
 *      directory), when own_dir is given and some frame is;
 *   2. else the first frame that is neither the Go standard library (its
 *      file is under GOROOT/src/, GOROOT read off the profile itself: the
 *      prefix of the runtime's own files, ".../src/runtime/...") nor a
 *      dependency (in the module cache, ".../pkg/mod/...", or with its
 *      version in the path, "github.com/x/y@v1.2.3/y.go" under -trimpath);
 *   3. else (a goroutine made entirely of library code: idle HTTP
 *      connections, timers) the innermost frame, and the hint says so.
 * Without GOROOT in the profile (a -trimpath build) rule 2 falls back to
 * the function's package: "main", or a path whose first element has a dot
 * (a module path like github.com/...).
 *
 * Each group says: count (beyond the baseline), the operation (Go's wait
 * reason, mapped to the runtime's rt_op for hints and metrics), the site,
 * the creator as role and spawn site, growth per second while it grew
 * (from the series: peak minus the minimum before it, over the time
 * between), ages from Go's wait minutes (whole minutes, lower bounds;
 * unknown when every goroutine of the group waited under a minute), an
 * example goroutine id, and a hint naming the likely catalogue pattern.
 */
#ifndef LEAKBENCH_GOLEAK_H
#define LEAKBENCH_GOLEAK_H

#include "goprof.h"
#include "leakreport.h"

/* Counts per site (the site frame's hash, by the rule above) over the
 * periodic debug=1 snapshots.  By site, not by whole stack: a goroutine
 * caught mid-step in one snapshot (the accept loop just accepting the
 * probe's connection) has another stack but the same site. */
typedef struct lb_go_series {
    int n_snaps, cap_snaps;
    double *t_s; /* snapshot times, seconds, increasing */
    int n_keys, cap_keys;
    uint64_t *keys;
    int64_t **counts; /* counts[k][snap] */
} lb_go_series;

/* Adds one debug=1 (or debug=2) profile taken at t_s; own_dir as for
 * lb_go_leak_report (may be NULL).  0 or -ENOMEM. */
int lb_go_series_add(lb_go_series *s, const lb_go_profile *p, double t_s, const char *own_dir);
void lb_go_series_free(lb_go_series *s);

/* The op of the runtime a Go wait reason maps to ("chan send" ->
 * RT_OP_SEND); frames disambiguate "semacquire" (a WaitGroup or a mutex).
 * Unknown reasons and running, runnable, syscall map to RT_OP_RUNNING. */
int lb_go_wait_op(const char *state, const lb_go_stack *s);

/* The index of the frame of s that is the site by the rule above; *own
 * says whether it is the target's own code.  goroot may be NULL. */
int lb_go_site_frame(const lb_go_stack *s, const char *goroot, const char *own_dir, bool *own);

/* GOROOT as the profile shows it ("/usr/lib/go-1.19/"), or "" (n bytes). */
void lb_go_profile_goroot(const lb_go_profile *p, char *out, size_t n);

/*
 * The report: final (debug=2) grouped as above, series (may be NULL) for
 * baselines and growth, own_dir (may be NULL) for the site rule.  Groups
 * sorted by count, largest first; past LB_LEAK_MAX_GROUPS folded into
 * "(other)".  0, -EINVAL if final is not debug=2, -ENOMEM.
 */
int lb_go_leak_report(const lb_go_profile *final, const lb_go_series *series, const char *own_dir,
                      lb_leak_report *out);

#endif
