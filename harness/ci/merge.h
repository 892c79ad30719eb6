/*
 * merge.h — one results document from the shards of one suite and
 * commit (`leakbench merge`), the inverse of `run --shard I/N`
 * (shard.h).
 *
 * The shards must agree on what they are pieces of, or nothing is
 * merged: the schema version, the "suite", the "commit", the shard count
 * and rule, the suite's list of scenarios ("shard"."suite_scenarios"),
 * the specs it ran with ("shard"."suite_spec") and A/A-ness.  Each
 * shard index may be given once, each scenario must be in exactly one
 * input, and in the shard the rule assigns it.  Shards that were not
 * given are missing: an error unless allow_missing.
 *
 * The merged document has the shape of a single run's: "scenarios" and
 * "spec"."scenarios" in suite order, "status" "complete" unless a shard
 * was not, "started_at" the earliest start, "finished_at" the latest
 * end, "tool", "host", "suite", "commit" (and "aa") from the lowest
 * shard, "command" the merge's own, and "thresholds" evaluated afresh
 * from the specs in the document (core/threshold.h lb_thresholds_apply;
 * not for A/A runs, as `run --aa` does not).
 * "shard" is replaced by
 *
 *   "merged": {"count": N, "rule": ..., "suite_scenarios": [...],
 *              "missing": [indices], "shards": [{"index", "file",
 *              "status", "started_at", "finished_at", "command",
 *              "host", "scenarios": [names]}, ...]}
 */
#ifndef LEAKBENCH_MERGE_H
#define LEAKBENCH_MERGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct lb_merge_result {
    int count;          /* N of the shards */
    int n_given;        /* shards merged */
    char missing[1024]; /* "2/3 (timer_never_stopped)", "" when none */
    bool partial;       /* a shard's status is not "complete" */
    size_t thresholds_failed;
} lb_merge_result;

/* Merges n validated results documents (docs[i] read from paths[i]) into
 * *out (a new reference); COMMAND (stolen) becomes its "command".
 * Returns 0; -EINVAL when the inputs do not belong together or a shard's
 * content contradicts the rule; -ENOENT when shards are missing and
 * allow_missing is false; -ENOMEM.  On error err says why, naming the
 * files, and *out is NULL. */
int lb_merge_shards(const char *const *paths, const json_t *const *docs, size_t n,
                    bool allow_missing, json_t *command, json_t **out, lb_merge_result *res,
                    char *err, size_t errlen);

#endif
