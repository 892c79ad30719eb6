/*
 * jsonutil.h — small jansson helpers the harness's JSON readers share.
 *
 * lb_json_type_name names a value's JSON type the way error messages say
 * it ("expected an object, got an array"): every loader (spec.c for
 * scenario and suite files, compare.c and report_results.c for
 * results.json) uses it, so one bad file is described in the same words
 * by every subcommand.
 */
#ifndef LEAKBENCH_JSONUTIL_H
#define LEAKBENCH_JSONUTIL_H

#include <jansson.h>

/* "an object", "an array", "a string", "an integer", "a number" (a real),
 * "a boolean" or "null": the type of j with its article, for messages. */
const char *lb_json_type_name(const json_t *j);

#endif
