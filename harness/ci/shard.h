/*
 * shard.h — splitting a suite across CI jobs (`run --shard I/N`) and the
 * identity every run's results carry so that `merge` can put the shards
 * back together: the suite, the commit under test and the shard.
 *
 * The split is by scenario name, never by position, so adding or
 * removing a scenario moves no other scenario to another shard:
 *
 *   shard of NAME = FNV-1a-64(NAME's bytes) mod N + 1
 *
 * Plain hashing balances only on average: with few scenarios a shard may
 * get none (catalog.json's 13 scenarios fall 7, 1 and 5 into 3 shards;
 * 5, 1, 4, 3 and 0 into 5).  Such a shard still runs and writes a valid
 * results document with no scenarios and its "shard" object, so `merge`
 * knows it ran.
 *
 * Results fields written by every `run` (README "Results"):
 *   "suite"   the suites run, joined with "+": a suite file's "suite",
 *             or a scenario file's scenario name
 *   "commit"  the commit under test (lb_commit_detect), or null
 *   "shard"   with --shard only: {"index": I, "count": N, "rule":
 *             LB_SHARD_RULE, "suite_scenarios": [every scenario name of
 *             the suite, in suite order], "suite_spec": a fingerprint of
 *             every scenario spec of the suite as run (overrides applied:
 *             "fnv1a64:" and 16 hex digits of the specs' canonical JSON),
 *             so shards run with other options or other spec files are
 *             told apart}
 */
#ifndef LEAKBENCH_SHARD_H
#define LEAKBENCH_SHARD_H

#include "core/spec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LB_SHARD_RULE      "fnv1a64(name) mod count + 1"
#define LB_SHARD_MAX_COUNT 1000

/* count 0: not sharded (every scenario runs). */
typedef struct lb_shard {
    int index; /* 1..count */
    int count;
} lb_shard;

/* Parses "I/N" (1 <= I <= N <= LB_SHARD_MAX_COUNT, plain decimals).
 * 0 or -EINVAL. */
int lb_shard_parse(const char *text, lb_shard *out);
/* The shard (1..count) a scenario named NAME falls in. */
int lb_shard_of(const char *name, int count);
/* True when the scenario runs in this shard (always when not sharded). */
bool lb_shard_contains(const lb_shard *s, const char *name);

/* The "suite" of a run of SPECS (n of them), into buf. */
void lb_suite_name(const lb_spec *specs, int n, char *buf, size_t len);

/* The commit under test: $LEAKBENCH_COMMIT, else $GITHUB_SHA, else
 * $CI_COMMIT_SHA (GitLab), else `git -C DIR rev-parse HEAD` where DIR is
 * the directory of spec_path; "" when none gives one (no git, not a
 * repository).  0, or -EINVAL when an environment variable holds
 * something that is not a commit (empty, over 128 bytes, blanks or
 * control bytes), with the message in err. */
int lb_commit_detect(const char *spec_path, char *buf, size_t len, char *err, size_t errlen);

/* Sets "suite", "commit" (null when commit is "") and, when shard->count
 * > 0, "shard" on a results document; the shard's "suite_scenarios" are
 * every scenario of SPECS.  0 or -ENOMEM. */
int lb_shard_mark(json_t *doc, const char *suite, const char *commit, const lb_shard *shard,
                  const lb_spec *specs, int n_specs);

#endif
