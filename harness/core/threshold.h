/*
 * threshold.h — pass/fail thresholds on a scenario's metrics, written in
 * specs and checked after a run.
 *
 * In a spec, "thresholds" is an object whose keys name a metric of one
 * variant and whose values are a comparison with a bound:
 *
 *   "thresholds": {
 *     "graceful.peak_tasks":   "<= 150",
 *     "graceful.leaked_tasks": "== 0",
 *     "graceful.peak_rss_mib": "< 0.2 * leaky.peak_rss_mib"
 *   }
 *
 * Grammar (whitespace allowed between tokens, never inside one):
 *
 *   key        = variant "." metric
 *   threshold  = op expr
 *   op         = "<" | "<=" | ">" | ">=" | "==" | "!="
 *   expr       = term { ("+" | "-") term }
 *   term       = unary { ("*" | "/") unary }
 *   unary      = [ "-" | "+" ] unary | primary
 *   primary    = number | variant "." metric | "(" expr ")"
 *   number     = digit { digit } [ "." digit { digit } ] [ ("e" | "E") [ "+" | "-" ] digit { digit
 * } ] variant    = "leaky" | "graceful" metric     = a name from the catalogue in metric.h
 *
 * The value compared is the variant's median over repetitions; references
 * on the right-hand side are medians too.  == and != compare exactly.  A
 * null median (e.g. recovery_ms of a variant that never recovered) fails
 * the threshold and says so, as does a bound that is not a finite number
 * (division by zero) or a variant that has no runs.
 *
 * A spec with an unknown variant or metric, a malformed expression or a
 * non-string value is rejected with the file, the JSON path of the entry
 * and the 1-based character position in the key or the expression.
 */
#ifndef LEAKBENCH_THRESHOLD_H
#define LEAKBENCH_THRESHOLD_H

#include "metric.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum lb_threshold_op {
    LB_OP_LT,
    LB_OP_LE,
    LB_OP_GT,
    LB_OP_GE,
    LB_OP_EQ,
    LB_OP_NE,
} lb_threshold_op;

typedef struct lb_expr lb_expr; /* the parsed right-hand side */

typedef struct lb_threshold {
    char *key;  /* "graceful.peak_tasks" */
    char *expr; /* "<= 150", as written */
    const char *variant;
    const lb_metric_def *metric;
    lb_threshold_op op;
    lb_expr *bound;
} lb_threshold;

typedef struct lb_threshold_set {
    lb_threshold *items;
    size_t n;
} lb_threshold_set;

/* Where a threshold failed to parse: in the key or in the expression, at
 * a 1-based character position, and why. */
typedef struct lb_threshold_error {
    bool in_key;
    size_t pos;
    char msg[200];
} lb_threshold_error;

/* Parses one key/expression pair into *out.  Returns 0, -EINVAL with *err
 * filled in, or -ENOMEM. */
int lb_threshold_parse(const char *key, const char *expr, lb_threshold *out,
                       lb_threshold_error *err);
void lb_threshold_free(lb_threshold *t);

/* Parses one key/expression pair for a spec loader that reports errors
 * its own way: 0 with *out filled (or only checks the pair when out is
 * NULL), or -EINVAL with msg set to e.g.
 *   expression "<= 15x0", character 6: unexpected 'x' in a number
 * (the caller prefixes file and JSON path).  -ENOMEM. */
int lb_threshold_check(const char *key, const char *expr, lb_threshold *out, char *msg, size_t len);

/* Parses a "thresholds" object.  file and json_path (e.g. "$.thresholds"
 * or "$.scenarios[1].thresholds") name it in messages such as
 *   quick.json: $.thresholds["graceful.peak_taks"]: key, character 10:
 *   unknown metric 'peak_taks' (did you mean 'peak_tasks'?)
 * obj may be NULL (no thresholds).  Returns 0, -EINVAL with the message
 * in err, or -ENOMEM.  On error *out is empty. */
int lb_thresholds_parse(const json_t *obj, const char *file, const char *json_path,
                        lb_threshold_set *out, char *err, size_t errlen);
void lb_thresholds_free(lb_threshold_set *set);

/* Checks every "thresholds" object of a spec: the top-level one (applies
 * to every scenario) and the one inside each object of a "scenarios"
 * array (applies to that scenario).  Returns 0 or -EINVAL/-ENOMEM with
 * the message in err. */
int lb_thresholds_check_spec(const json_t *spec, const char *file, char *err, size_t errlen);

/* Evaluates N parsed thresholds (a set's items, or those a loaded spec
 * keeps: lb_scenario_spec.thresholds) against one scenario of a results
 * document (an element of results "scenarios"), walking each AST and
 * reading medians with lb_metric_collect(); the expression strings are
 * only copied into the verdicts.  Appends one object per threshold to out
 * (a JSON array):
 *   {"scenario", "metric", "expr", "value", "bound", "verdict", "reason", "n"}
 * value/bound are null when not measured; reason says why a threshold
 * failed ("" when it passed).  Adds the failures to *n_failed.
 * Returns 0 or -ENOMEM. */
int lb_thresholds_evaluate(const lb_threshold *items, size_t n, const json_t *scenario, json_t *out,
                           size_t *n_failed);

/* Evaluates a whole results document in place (e.g. to re-check a saved
 * results.json): the thresholds are results "spec"."thresholds" (applied
 * to every scenario) plus each scenario's own: its "spec"."thresholds" as
 * run, or else those of the results "spec"."scenarios" entry with the
 * same "name"/"scenario".  Results "thresholds" is replaced by the list
 * of verdicts.  *n_failed counts
 * failures.  Returns 0, -EINVAL with err filled (a spec threshold does not
 * parse), or -ENOMEM. */
int lb_thresholds_apply(json_t *results, size_t *n_failed, char *err, size_t errlen);

const char *lb_threshold_op_name(lb_threshold_op op);

/* One verdict (an element of results "thresholds") as a person reads it,
 * as `metric value op bound` with the metric's unit (core/units.h):
 *   graceful.recovery_ms 52 ms < 100 ms
 *   graceful.peak_rss_mib 3.91 MiB < 37.1 MiB (0.5 * leaky.peak_rss_mib)
 *   graceful.recovery_ms 152 ms, not < 100 ms                  (failed)
 *   graceful.recovery_ms < 100 ms: graceful.recovery_ms is null (...)
 * The last form, the rule and the verdict's reason, when the value or
 * the bound is null.  A bound that is not a plain number is followed by
 * its expression.  Where three significant digits would print value and
 * bound alike although they differ ("100 ms < 100 ms"), the exact numbers
 * follow.  Writes into buf (always terminated) and returns it. */
char *lb_threshold_verdict_text(const json_t *verdict, char *buf, size_t len);

/* Parses a bare "VARIANT.METRIC" reference (as in a threshold key) into
 * *variant and *metric.  0, or -EINVAL with *err filled in. */
int lb_metric_ref_parse(const char *ref, const char **variant, const lb_metric_def **metric,
                        lb_threshold_error *err);

#endif
