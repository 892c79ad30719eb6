/*
 * jsonutil.h — small jansson helpers the harness's JSON readers share.
 *
 * lb_json_type_name names a value's JSON type the way error messages say
 * it ("expected an object, got an array"): every loader (spec.c for
 * scenario and suite files, run/results_load.c for results.json) uses it,
 * so one bad file is described in the same words by every subcommand.
 *
 * lb_jpath is the one walker for dotted paths of object keys
 * ("metrics.latency_ms.p99"): the metric catalogue, the results loader and
 * the report's accessors below all go through it.
 *
 * lb_json_round_reals rounds every real in a tree to the precision the
 * tree will be written with, so a document in memory holds exactly what
 * a reader of its file will get back.
 */
#ifndef LEAKBENCH_JSONUTIL_H
#define LEAKBENCH_JSONUTIL_H

#include <jansson.h>

/* "an object", "an array", "a string", "an integer", "a number" (a real),
 * "a boolean" or "null": the type of j with its article, for messages. */
const char *lb_json_type_name(const json_t *j);

/* The value at DOTTED below obj ("metrics.latency_ms.p99"; "" is obj
 * itself), or NULL when a key is missing or a step is not an object.
 * Keys longer than 127 bytes are never found. */
json_t *lb_jpath(const json_t *obj, const char *dotted);

/* Accessors built on lb_jpath.  A missing, null or mistyped number is
 * NAN, a missing or mistyped string NULL. */
double lb_jnum(const json_t *obj, const char *key);
double lb_jnum_path(const json_t *obj, const char *dotted);
const char *lb_jstr(const json_t *obj, const char *key);
const char *lb_jstr_path(const json_t *obj, const char *dotted);
/* -1 false, 0 missing or null, 1 true */
int lb_jbool_path(const json_t *obj, const char *dotted);

/* Rounds every real below j (objects and arrays, recursively) to DIGITS
 * significant digits, the value json_dumps with JSON_REAL_PRECISION(DIGITS)
 * writes and json_loads reads back. */
void lb_json_round_reals(json_t *j, int digits);

#endif
