/*
 * probe.c — one reading of a target's live tasks, by kind.
 *
 * How it works: the HTTP kinds GET their path with http_get.c, judge the
 * status (2xx only), and hand the body to their pure parser (goprof.c,
 * promtext.c); threads scans the process tree (proctree.c).  The reading
 * is timed around all of it, so its cost includes the target's time to
 * answer.
 */
#include "probe.h"

#include "http_get.h"
#include "proctree.h"
#include "promtext.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* GETs path; a whole 2xx response in *resp, else the failure in out. */
static int get_2xx(const lb_probe_config *c, const lb_probe_target *t, const char *path,
                   lb_http_response *resp, lb_probe_reading *out)
{
    int timeout = c->timeout_ms > 0 ? c->timeout_ms : LB_PROBE_DEFAULT_TIMEOUT_MS;
    size_t max = c->max_bytes ? c->max_bytes : LB_PROBE_DEFAULT_MAX_BYTES;
    if (!t->addr) {
        snprintf(out->error, sizeof out->error, "the %s probe needs the target's address",
                 lb_probe_kind_name(c->kind));
        return -EINVAL;
    }
    int rc = lb_http_get_on(t->conn, t->addr, t->addr_len, t->host ? t->host : "localhost", path,
                            timeout, max, resp, out->error, sizeof out->error);
    if (rc < 0) return rc;
    out->http_status = resp->status;
    if (resp->status >= 200 && resp->status < 300) return 0;
    const char *body = resp->body ? resp->body : "";
    size_t line = strcspn(body, "\r\n");
    snprintf(out->error, sizeof out->error, "GET %s: HTTP %d%s%.*s", path, resp->status,
             line ? ": " : "", (int)(line < 120 ? line : 120), body);
    lb_http_response_free(resp);
    return -EPROTO;
}

static int read_go_pprof(const lb_probe_config *c, const lb_probe_target *t, lb_probe_reading *out)
{
    const char *path = c->path ? c->path : LB_PROBE_GO_PPROF_PATH;
    lb_http_response resp;
    int rc = get_2xx(c, t, path, &resp, out);
    if (rc < 0) return rc;
    char err[256];
    rc = lb_go_profile_parse(resp.body ? resp.body : "", resp.body_len, &out->profile, err,
                             sizeof err);
    lb_http_response_free(&resp);
    if (rc < 0) {
        snprintf(out->error, sizeof out->error, "GET %s: not a goroutine profile: %s", path, err);
        lb_go_profile_free(&out->profile);
        return rc;
    }
    out->tasks = (double)out->profile.total;
    return 0;
}

static int read_prometheus(const lb_probe_config *c, const lb_probe_target *t,
                           lb_probe_reading *out)
{
    if (!c->metric || !*c->metric) {
        snprintf(out->error, sizeof out->error, "the prometheus probe needs a metric name");
        return -EINVAL;
    }
    const char *path = c->path ? c->path : LB_PROBE_PROMETHEUS_PATH;
    lb_http_response resp;
    int rc = get_2xx(c, t, path, &resp, out);
    if (rc < 0) return rc;
    char err[256];
    rc = lb_prom_read(resp.body ? resp.body : "", resp.body_len, c->metric, c->labels, &out->tasks,
                      err, sizeof err);
    lb_http_response_free(&resp);
    if (rc < 0) snprintf(out->error, sizeof out->error, "GET %s: %s", path, err);
    return rc;
}

static int read_threads(const lb_probe_target *t, lb_probe_reading *out)
{
    lb_proctree_sample s;
    int rc = lb_proctree_scan(t->root, t->pgid, t->cgroup_procs, NULL, 0, &s);
    if (rc < 0) {
        snprintf(out->error, sizeof out->error, "/proc: %s", strerror(-rc));
        return rc;
    }
    if (rc == 0) {
        snprintf(out->error, sizeof out->error, "the target has no live processes");
        return -ESRCH;
    }
    out->tasks = (double)s.threads;
    return 0;
}

int lb_probe_read(const lb_probe_config *c, const lb_probe_target *t, lb_probe_reading *out)
{
    memset(out, 0, sizeof *out);
    double start = now_ms();
    int rc;
    switch (c->kind) {
    case LB_PROBE_GO_PPROF:
        rc = read_go_pprof(c, t, out);
        break;
    case LB_PROBE_PROMETHEUS:
        rc = read_prometheus(c, t, out);
        break;
    case LB_PROBE_THREADS:
        rc = read_threads(t, out);
        break;
    case LB_PROBE_NONE:
        snprintf(out->error, sizeof out->error, "probe none takes no readings");
        rc = -EINVAL;
        break;
    default:
        snprintf(out->error, sizeof out->error, "unknown probe kind %d", (int)c->kind);
        rc = -EINVAL;
        break;
    }
    out->cost_ms = now_ms() - start;
    out->rc = rc < 0 ? rc : 0;
    return out->rc;
}

void lb_probe_reading_free(lb_probe_reading *r)
{
    lb_go_profile_free(&r->profile);
}
