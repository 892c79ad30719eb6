/*
 * aa_noise.h — the noise floor measured by an A/A run (`run --aa
 * VARIANT`: one variant on both sides, repetitions interleaved A B A B)
 * and its use by `compare --noise-from AA.json`.
 *
 * An A/A run's results are an ordinary results document whose two sides
 * ("leaky" and "graceful" slots) ran the same variant, marked
 *
 *   "aa": {"variant": "leaky", "statistic": LB_AA_STATISTIC}
 *
 * and, in each scenario, "aa_noise": for every metric compare judges,
 *
 *   {"pairs": n, "median_rel": m, "max_rel": x, "max_abs": a}
 *
 * where repetition k of side A and repetition k of side B form a pair
 * (a, b) — two identical runs taken one right after the other — and its
 * relative difference is |a - b| / ((|a| + |b|) / 2), 0 when a = b
 * (both 0 included).  median_rel and max_rel are the median and the
 * maximum over the pairs, max_abs the largest |a - b| in the metric's
 * unit; pairs where either run did not measure the metric are left out,
 * and a metric with no pair has all three null.
 *
 * compare uses max_rel of the scenario and metric as its relative noise
 * threshold, in place of the fixed --noise (5%), for the rows of the A/A
 * run's variant: the largest difference two identical runs showed is
 * what "no change" can look like.  The metric's absolute floor (metric.h)
 * still applies: it is the instrument's resolution, which a few
 * identical pairs cannot measure below.
 */
#ifndef LEAKBENCH_AA_NOISE_H
#define LEAKBENCH_AA_NOISE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define LB_AA_STATISTIC                                                                            \
    "per metric, over pairs of repetitions (A k, B k): median and max of |a-b| / ((|a|+|b|)/2), "  \
    "and max |a-b|"

/* The noise of one results scenario (a new object; NULL when out of
 * memory). */
json_t *lb_aa_noise(const json_t *scenario);

/* Marks a results document as an A/A run of VARIANT and sets every
 * scenario's "aa_noise" (reals rounded like the rest of the document).
 * 0 or -ENOMEM. */
int lb_aa_mark(json_t *doc, const char *variant);

/* The variant an A/A document ran on both sides ("leaky"/"graceful"), or
 * NULL when doc is not an A/A run. */
const char *lb_aa_variant(const json_t *doc);

/* Checks that a validated results document is a usable A/A run: marked,
 * with an "aa_noise" object in each scenario.  0 or -EINVAL with a
 * message naming FILE. */
int lb_aa_check(const json_t *doc, const char *file, char *err, size_t errlen);

/* max_rel of SCENARIO's METRIC in an A/A document: true with *rel and
 * *pairs set when it was measured. */
bool lb_aa_noise_lookup(const json_t *doc, const char *scenario, const char *metric, double *rel,
                        int *pairs);

/* The noise table of an A/A document, one line per scenario and metric. */
void lb_aa_noise_print(FILE *out, const json_t *doc);

#endif
