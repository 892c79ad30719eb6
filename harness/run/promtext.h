/*
 * promtext.h — reads one gauge from Prometheus's text exposition format
 * (what /metrics serves: go_goroutines, jvm_threads_current,
 * nodejs_active_handles_total, leakbench_live_tasks, ...).
 *
 * The whole text is checked as it is scanned, so an HTML error page or a
 * truncated line is an error with its position rather than a silent miss.
 * Accepted, per the format (version 0.0.4): blank lines; "#" comments
 * (HELP and TYPE among them); samples "NAME[{LABEL="VALUE",...}] VALUE
 * [TIMESTAMP]" with label values escaped by \\, \" and \n, and VALUE a
 * float, NaN, +Inf or -Inf.
 */
#ifndef LEAKBENCH_PROMTEXT_H
#define LEAKBENCH_PROMTEXT_H

#include <stddef.h>

/*
 * The value of metric `name` in text (n bytes): the sample whose labels
 * include every pair of `labels` (the same syntax without braces,
 * 'op="send",state="x"'; NULL or "" matches any), summed over all the
 * samples that match (so a gauge split by label reads as its total when
 * no label is given).  0, -ENOENT when no sample matches (err says so),
 * -EBADMSG for a malformed line or selector ("line L:C: ..." in err).
 */
int lb_prom_read(const char *text, size_t n, const char *name, const char *labels, double *value,
                 char *err, size_t errn);

#endif
