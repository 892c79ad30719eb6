/*
 * probe.h — live tasks of an external target, read from outside on the
 * probe's own interval.  One interface, four kinds:
 *
 *   go_pprof    GET /debug/pprof/goroutine?debug=1 (net/http/pprof): the
 *               total, and the profile's stacks for the leak report's
 *               growth (goprof.h);
 *   prometheus  GET /metrics: one gauge of the text exposition format by
 *               name and optional labels (promtext.h): go_goroutines,
 *               jvm_threads_current, nodejs_active_handles_total,
 *               leakbench_live_tasks, ...;
 *   threads     OS threads of the target's whole process tree (/proc,
 *               proctree.h), for programs with no endpoint;
 *   none        no live-task reading (RSS, threads and CPU still sampled).
 *
 * A probe is a request to the target, so what it costs is part of the
 * result: every reading carries its wall time.  HTTP goes through
 * http_get.c (llhttp); a non-2xx status, a body that is not the format, a
 * timeout or a refused connection is a failed reading with a reason, never
 * a number.
 */
#ifndef LEAKBENCH_PROBE_H
#define LEAKBENCH_PROBE_H

#include "goprof.h"
#include "core/target_spec.h"

#include "http_get.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* lb_probe_kind, lb_probe_kind_name and lb_probe_kind_parse live with
 * the spec that names them (core/target_spec.h). */

#define LB_PROBE_DEFAULT_TIMEOUT_MS 1000
#define LB_PROBE_DEFAULT_MAX_BYTES  (64u << 20)
#define LB_PROBE_GO_PPROF_PATH      "/debug/pprof/goroutine?debug=1"
#define LB_PROBE_GO_PPROF_FULL_PATH "/debug/pprof/goroutine?debug=2"
#define LB_PROBE_PROMETHEUS_PATH    "/metrics"

typedef struct lb_probe_config {
    lb_probe_kind kind;
    const char *path;   /* NULL: the kind's default path above */
    const char *metric; /* prometheus: the gauge (required) */
    const char *labels; /* prometheus: 'k="v",...' that the sample must carry; NULL: any */
    int timeout_ms;     /* 0: LB_PROBE_DEFAULT_TIMEOUT_MS */
    size_t max_bytes;   /* 0: LB_PROBE_DEFAULT_MAX_BYTES */
} lb_probe_config;

/* Where a probe looks: the target's HTTP address and its processes. */
typedef struct lb_probe_target {
    const struct sockaddr *addr;
    socklen_t addr_len;
    const char *host;         /* Host header ("127.0.0.1:8080") */
    pid_t root, pgid;         /* for threads */
    const char *cgroup_procs; /* for threads; may be NULL */
    lb_http_conn *conn; /* go_pprof, prometheus: kept between readings; NULL: one per reading */
} lb_probe_target;

typedef struct lb_probe_reading {
    int rc;                /* 0, or the negative errno of the failure */
    double tasks;          /* the reading when rc == 0 */
    int http_status;       /* 0 when no response */
    double cost_ms;        /* wall time of the probe */
    lb_go_profile profile; /* go_pprof: the parsed profile (lb_probe_reading_free) */
    char error[320];       /* why, when rc < 0 */
} lb_probe_reading;

/*
 * Takes one reading.  Errors in out->rc (also returned): -ECONNREFUSED,
 * -ETIMEDOUT, ... from the GET; -EPROTO for a non-2xx status (error names
 * it and the body's first line); -EBADMSG for a body that is not the
 * format (error has the line and column); -ENOENT when the gauge is not
 * in the text; -EINVAL for a config that lacks what its kind needs.
 * Free with lb_probe_reading_free whatever the result.
 */
int lb_probe_read(const lb_probe_config *c, const lb_probe_target *t, lb_probe_reading *out);
void lb_probe_reading_free(lb_probe_reading *r);

#endif
