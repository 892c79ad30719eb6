/*
 * junit.h — JUnit XML reports for CI systems: every threshold of a run
 * and every compared metric becomes a <testcase>.
 *
 * Threshold cases: classname "leakbench.thresholds.SCENARIO", name
 * "VARIANT.METRIC EXPR"; a failed threshold carries a <failure> whose
 * message is the reason and whose text holds value, bound and expression.
 * Compare cases: classname "leakbench.compare.SCENARIO.VARIANT", name the
 * metric; regressed is a <failure> with base, new, ratio, change and p;
 * inconclusive is <skipped> with the reason; improved and unchanged pass,
 * as do the volatile metrics compare does not gate on (lb_metric_gated).
 * Every string is escaped for XML (& < > " ' and control characters;
 * invalid UTF-8 bytes become '?'), and the file is written atomically.
 */
#ifndef LEAKBENCH_JUNIT_H
#define LEAKBENCH_JUNIT_H

#include "compare.h"

#include <jansson.h>
#include <stddef.h>

typedef enum lb_junit_status { LB_JUNIT_PASS, LB_JUNIT_FAILURE, LB_JUNIT_SKIPPED } lb_junit_status;

typedef struct lb_junit lb_junit;

lb_junit *lb_junit_new(void);
void lb_junit_free(lb_junit *j);
/* Starts a <testsuite>; later cases go into it.  0 or -ENOMEM. */
int lb_junit_suite(lb_junit *j, const char *name);
/* Adds a test case; message and detail may be NULL.  0 or -ENOMEM. */
int lb_junit_case(lb_junit *j, const char *classname, const char *name, lb_junit_status status,
                  const char *message, const char *detail);
/* One case per entry of a results "thresholds" array, in a suite named
 * "leakbench thresholds". */
int lb_junit_add_thresholds(lb_junit *j, const json_t *thresholds);
/* One case per comparison row, in a suite named "leakbench compare". */
int lb_junit_add_comparison(lb_junit *j, const lb_comparison *c);
/* Renders the document (for tests) into a malloc'd string. */
char *lb_junit_render(const lb_junit *j);
/* Writes it atomically.  0 or negative errno with err filled. */
int lb_junit_write(const lb_junit *j, const char *path, char *err, size_t errlen);

/* Writes s escaped for XML text and attribute values. */
void lb_xml_escape(FILE *f, const char *s);

#endif
