/*
 * target_spec.c — the "target" object of a scenario file (target_spec.h).
 *
 * How it works.  The object holds "leaky", "graceful" and the common keys
 * "port", "ready", "probe", "shutdown".  Each variant is parsed on its
 * own: defaults first, then the common keys, then the variant's own keys
 * over them — each value validated where it is written, so an error's
 * JSON path is the one in the file ("$.target.probe.metric" or
 * "$.target.leaky.probe.metric").  Strings go into the variant's text
 * buffer; the combinations of the probe's fields (a metric only with
 * prometheus, a path only with an HTTP probe, ...) are checked on the
 * finished variant, again with the path where the field was written.
 */
#include "target_spec.h"

#include "jsonutil.h"
#include "spec_internal.h"
#include "words.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char *const probe_names[] = {"none", "go_pprof", "prometheus", "threads"};

const char *lb_probe_kind_name(lb_probe_kind k)
{
    return (unsigned)k < sizeof probe_names / sizeof probe_names[0] ? probe_names[k] : "unknown";
}

int lb_probe_kind_parse(const char *name, lb_probe_kind *out)
{
    for (size_t i = 0; i < sizeof probe_names / sizeof probe_names[0]; i++)
        if (name && strcmp(name, probe_names[i]) == 0) {
            *out = (lb_probe_kind)i;
            return 0;
        }
    return -EINVAL;
}

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGHUP", SIGHUP},
    {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGKILL", SIGKILL},
};

int lb_target_signal_parse(const char *name, int *sig)
{
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (!strcmp(name, signals[i].name)) {
            *sig = signals[i].sig;
            return 0;
        }
    return -EINVAL;
}

const char *lb_target_signal_spec_name(int sig)
{
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signals[i].sig == sig) return signals[i].name;
    return "?";
}

int lb_target_ready_ms(const lb_target_spec *t)
{
    if (!t->active) return 0;
    int a = t->leaky.ready_timeout_ms, b = t->graceful.ready_timeout_ms;
    return a > b ? a : b;
}

void lb_target_variant_defaults(lb_target_variant_spec *v)
{
    memset(v, 0, sizeof *v);
    v->port = LB_TARGET_PORT_AUTO;
    v->ready = LB_READY_TCP;
    v->ready_timeout_ms = LB_TARGET_DEFAULT_READY_MS;
    v->probe = LB_PROBE_NONE;
    v->probe_interval_ms = LB_TARGET_DEFAULT_PROBE_MS;
    v->probe_timeout_ms = LB_TARGET_DEFAULT_PROBE_TIMEOUT;
    v->shutdown_signal = SIGTERM;
    v->shutdown_grace_ms = LB_TARGET_DEFAULT_GRACE_MS;
}

void lb_target_variant_argv(const lb_target_variant_spec *v,
                            const char *argv[LB_TARGET_MAX_ARGS + 1])
{
    for (int i = 0; i < v->argc; i++) argv[i] = v->text + v->arg_at[i];
    argv[v->argc] = NULL;
}

void lb_target_variant_env(const lb_target_variant_spec *v, const char *env[LB_TARGET_MAX_ENV + 1])
{
    for (int i = 0; i < v->n_env; i++) env[i] = v->text + v->env_at[i];
    env[v->n_env] = NULL;
}

/* Appends a string (and, when b is not NULL, "=" b) to the text buffer;
 * its offset in *at.  0, or -ENOSPC. */
static int add_text(lb_target_variant_spec *v, const char *a, const char *b, uint16_t *at)
{
    size_t need = strlen(a) + (b ? 1 + strlen(b) : 0) + 1;
    if (v->text_used + need > sizeof v->text) return -ENOSPC;
    *at = v->text_used;
    snprintf(v->text + v->text_used, need, "%s%s%s", a, b ? "=" : "", b ? b : "");
    v->text_used = (uint16_t)(v->text_used + need);
    return 0;
}

/* ---------------------------------------------------------- parsing -- */

typedef lb_spec_validator validator;

/* A string into a fixed field. */
static int get_field(const validator *v, const json_t *j, const char *path, char *dst, size_t n)
{
    const char *s = NULL;
    int rc = lb_spec_get_string(v, j, path, &s);
    if (rc) return rc;
    if (strlen(s) >= n) return lb_spec_fail(v, path, "longer than %zu characters", n - 1);
    snprintf(dst, n, "%s", s);
    return 0;
}

/* An HTTP path: starts with '/', no space or line break. */
static int get_http_path(const validator *v, const json_t *j, const char *path, char *dst, size_t n)
{
    int rc = get_field(v, j, path, dst, n);
    if (rc) return rc;
    if (dst[0] != '/') return lb_spec_fail(v, path, "must start with '/'");
    if (strpbrk(dst, " \t\r\n")) return lb_spec_fail(v, path, "no spaces or line breaks allowed");
    return 0;
}

static int get_ms(const validator *v, const json_t *j, const char *path, int64_t min, int *out)
{
    int64_t x;
    int rc = lb_spec_get_integer(v, j, path, min, 600000, &x);
    if (!rc) *out = (int)x;
    return rc;
}

static int parse_command(const validator *v, const json_t *j, const char *path,
                         lb_target_variant_spec *t)
{
    if (!json_is_array(j))
        return lb_spec_fail(v, path, "expected an array of strings (argv, no shell), got %s",
                            lb_json_type_name(j));
    size_t n = json_array_size(j);
    if (n == 0) return lb_spec_fail(v, path, "empty (the first word is the program to run)");
    if (n > LB_TARGET_MAX_ARGS)
        return lb_spec_fail(v, path, "%zu words, at most %d", n, LB_TARGET_MAX_ARGS);
    t->argc = 0;
    for (size_t i = 0; i < n; i++) {
        char p[600];
        const char *s = NULL;
        snprintf(p, sizeof p, "%.500s[%zu]", path, i);
        int rc = lb_spec_get_string(v, json_array_get(j, i), p, &s);
        if (rc) return rc;
        if (i == 0 && !*s) return lb_spec_fail(v, p, "empty program name");
        if (add_text(t, s, NULL, &t->arg_at[t->argc]))
            return lb_spec_fail(v, path, "longer than %d characters in all", LB_TARGET_TEXT_MAX);
        t->argc++;
    }
    return 0;
}

static int parse_env(const validator *v, const json_t *j, const char *path,
                     lb_target_variant_spec *t)
{
    int rc;
    if ((rc = lb_spec_get_object(v, j, path))) return rc;
    if (json_object_size(j) > LB_TARGET_MAX_ENV)
        return lb_spec_fail(v, path, "%zu variables, at most %d", json_object_size(j),
                            LB_TARGET_MAX_ENV);
    const char *key;
    json_t *val;
    t->n_env = 0;
    json_object_foreach((json_t *)j, key, val)
    {
        char p[600];
        const char *s = NULL;
        lb_spec_join_path(p, sizeof p, path, key);
        if (!*key || strchr(key, '='))
            return lb_spec_fail(v, p, "not a valid variable name (empty or with '=')");
        if ((rc = lb_spec_get_string(v, val, p, &s))) return rc;
        if (add_text(t, key, s, &t->env_at[t->n_env]))
            return lb_spec_fail(v, path,
                                "the command and environment are longer than %d "
                                "characters in all",
                                LB_TARGET_TEXT_MAX);
        t->n_env++;
    }
    return 0;
}

static int parse_port(const validator *v, const json_t *j, const char *path,
                      lb_target_variant_spec *t)
{
    if (json_is_null(j)) {
        t->port = LB_TARGET_PORT_NONE;
        return 0;
    }
    if (json_is_string(j)) {
        if (strcmp(json_string_value(j), "auto"))
            return lb_spec_fail(v, path, "expected \"auto\", a port number or null, got \"%s\"",
                                json_string_value(j));
        t->port = LB_TARGET_PORT_AUTO;
        return 0;
    }
    if (!json_is_integer(j))
        return lb_spec_fail(v, path, "expected \"auto\", a port number or null, got %s",
                            lb_json_type_name(j));
    int64_t x;
    int rc = lb_spec_get_integer(v, j, path, 1, 65535, &x);
    if (!rc) t->port = (int)x;
    return rc;
}

static int parse_ready(const validator *v, const json_t *j, const char *path,
                       lb_target_variant_spec *t)
{
    static const char *const keys[] = {"http", "tcp", "timeout_ms", NULL};
    char p[600];
    int rc;
    if ((rc = lb_spec_get_object(v, j, path)) || (rc = lb_spec_check_keys(v, j, path, keys)))
        return rc;
    const json_t *http = json_object_get(j, "http"), *tcp = json_object_get(j, "tcp"), *f;
    t->ready_timeout_ms = LB_TARGET_DEFAULT_READY_MS; /* a ready object stands whole */
    if (http && tcp) {
        lb_spec_join_path(p, sizeof p, path, "tcp");
        return lb_spec_fail(v, p, "not allowed with http (one readiness check)");
    }
    if (!http && !tcp)
        return lb_spec_fail(v, path, "needs \"http\": PATH (a 2xx answer) or \"tcp\": true");
    if (http) {
        lb_spec_join_path(p, sizeof p, path, "http");
        if ((rc = get_http_path(v, http, p, t->ready_path, sizeof t->ready_path))) return rc;
        t->ready = LB_READY_HTTP;
    } else {
        lb_spec_join_path(p, sizeof p, path, "tcp");
        if (!json_is_true(tcp))
            return lb_spec_fail(v, p, "expected true, got %s",
                                json_is_false(tcp) ? "false" : lb_json_type_name(tcp));
        t->ready = LB_READY_TCP;
        t->ready_path[0] = 0;
    }
    if ((f = json_object_get(j, "timeout_ms"))) {
        lb_spec_join_path(p, sizeof p, path, "timeout_ms");
        if ((rc = get_ms(v, f, p, 1, &t->ready_timeout_ms))) return rc;
    }
    return 0;
}

/* Label pairs that the gauge's sample must carry, kept as written. */
static int parse_labels(const validator *v, const json_t *j, const char *path,
                        lb_target_variant_spec *t)
{
    int rc;
    if ((rc = lb_spec_get_object(v, j, path))) return rc;
    if (json_object_size(j) > LB_TARGET_MAX_LABELS)
        return lb_spec_fail(v, path, "%zu labels, at most %d", json_object_size(j),
                            LB_TARGET_MAX_LABELS);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val)
    {
        char p[600];
        const char *s = NULL;
        lb_spec_join_path(p, sizeof p, path, key);
        bool name_ok = *key && !(key[0] >= '0' && key[0] <= '9');
        for (const char *c = key; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_'))
                name_ok = false;
        if (!name_ok)
            return lb_spec_fail(v, p, "not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
        if ((rc = lb_spec_get_string(v, val, p, &s))) return rc;
        uint16_t value_at;
        if (add_text(t, key, NULL, &t->label_at[t->n_labels]) || add_text(t, s, NULL, &value_at))
            return lb_spec_fail(v, path,
                                "the variant's strings are longer than %d characters in "
                                "all",
                                LB_TARGET_TEXT_MAX);
        t->n_labels++;
    }
    return 0;
}

int lb_target_variant_labels(const lb_target_variant_spec *t, char *out, size_t n)
{
    size_t used = 0;
    if (n) out[0] = 0;
    for (int i = 0; i < t->n_labels; i++) {
        const char *name = t->text + t->label_at[i], *s = name + strlen(name) + 1;
        used +=
            (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s=\"", i ? "," : "", name);
        for (; *s; s++) {
            const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
            char one[2] = {*s, 0};
            used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s", esc ? esc : one);
        }
        used += (size_t)snprintf(out + used, used < n ? n - used : 0, "\"");
    }
    return used < n ? 0 : -ENOSPC;
}

/* Where each probe field was written, for the combination checks. */
typedef struct probe_paths {
    char kind[600], path[600], metric[600], labels[600];
} probe_paths;

static int parse_probe(const validator *v, const json_t *j, const char *path,
                       lb_target_variant_spec *t, probe_paths *pp)
{
    static const char *const keys[] = {"kind",        "path",       "metric", "labels",
                                       "interval_ms", "timeout_ms", NULL};
    char p[600];
    int rc;
    if ((rc = lb_spec_get_object(v, j, path)) || (rc = lb_spec_check_keys(v, j, path, keys)))
        return rc;
    const json_t *f = json_object_get(j, "kind");
    lb_spec_join_path(p, sizeof p, path, "kind");
    if (!f) return lb_spec_fail(v, p, "missing (go_pprof, prometheus, threads or none)");
    const char *kind = NULL;
    if ((rc = lb_spec_get_string(v, f, p, &kind))) return rc;
    if (lb_probe_kind_parse(kind, &t->probe))
        return lb_spec_fail(
            v, p, "unknown probe '%.60s' (expected go_pprof, prometheus, threads or none)", kind);
    /* A probe object stands whole: what it does not say is the default. */
    snprintf(pp->kind, sizeof pp->kind, "%s", p);
    t->probe_path[0] = t->probe_metric[0] = 0;
    t->n_labels = 0;
    pp->path[0] = pp->metric[0] = pp->labels[0] = 0;
    t->probe_interval_ms = LB_TARGET_DEFAULT_PROBE_MS;
    t->probe_timeout_ms = LB_TARGET_DEFAULT_PROBE_TIMEOUT;
    if ((f = json_object_get(j, "path"))) {
        lb_spec_join_path(pp->path, sizeof pp->path, path, "path");
        if ((rc = get_http_path(v, f, pp->path, t->probe_path, sizeof t->probe_path))) return rc;
    }
    if ((f = json_object_get(j, "metric"))) {
        lb_spec_join_path(pp->metric, sizeof pp->metric, path, "metric");
        if ((rc = get_field(v, f, pp->metric, t->probe_metric, sizeof t->probe_metric))) return rc;
        if (!t->probe_metric[0]) return lb_spec_fail(v, pp->metric, "empty metric name");
    }
    if ((f = json_object_get(j, "labels"))) {
        lb_spec_join_path(pp->labels, sizeof pp->labels, path, "labels");
        if ((rc = parse_labels(v, f, pp->labels, t))) return rc;
    }
    if ((f = json_object_get(j, "interval_ms"))) {
        lb_spec_join_path(p, sizeof p, path, "interval_ms");
        if ((rc = get_ms(v, f, p, 1, &t->probe_interval_ms))) return rc;
    }
    if ((f = json_object_get(j, "timeout_ms"))) {
        lb_spec_join_path(p, sizeof p, path, "timeout_ms");
        if ((rc = get_ms(v, f, p, 1, &t->probe_timeout_ms))) return rc;
    }
    return 0;
}

static int parse_shutdown(const validator *v, const json_t *j, const char *path,
                          lb_target_variant_spec *t)
{
    static const char *const keys[] = {"signal", "grace_ms", NULL};
    char p[600];
    int rc;
    if ((rc = lb_spec_get_object(v, j, path)) || (rc = lb_spec_check_keys(v, j, path, keys)))
        return rc;
    const json_t *f;
    t->shutdown_signal = SIGTERM; /* a shutdown object stands whole */
    t->shutdown_grace_ms = LB_TARGET_DEFAULT_GRACE_MS;
    if ((f = json_object_get(j, "signal"))) {
        const char *name = NULL;
        lb_spec_join_path(p, sizeof p, path, "signal");
        if ((rc = lb_spec_get_string(v, f, p, &name))) return rc;
        if (lb_target_signal_parse(name, &t->shutdown_signal))
            return lb_spec_fail(v, p,
                                "unknown signal '%.40s' (expected SIGTERM, SIGINT, SIGQUIT, "
                                "SIGHUP, SIGUSR1, SIGUSR2 or SIGKILL)",
                                name);
    }
    if ((f = json_object_get(j, "grace_ms"))) {
        lb_spec_join_path(p, sizeof p, path, "grace_ms");
        if ((rc = get_ms(v, f, p, 0, &t->shutdown_grace_ms))) return rc;
    }
    return 0;
}

/* The keys both the target and a variant may hold, parsed from obj. */
static int parse_common(const validator *v, const json_t *obj, const char *path,
                        lb_target_variant_spec *t, probe_paths *pp, char *port_path, size_t n)
{
    char p[600];
    const json_t *f;
    int rc;
    if ((f = json_object_get(obj, "port"))) {
        lb_spec_join_path(port_path, n, path, "port");
        if ((rc = parse_port(v, f, port_path, t))) return rc;
    }
    if ((f = json_object_get(obj, "ready"))) {
        lb_spec_join_path(p, sizeof p, path, "ready");
        if ((rc = parse_ready(v, f, p, t))) return rc;
    }
    if ((f = json_object_get(obj, "probe"))) {
        lb_spec_join_path(p, sizeof p, path, "probe");
        if ((rc = parse_probe(v, f, p, t, pp))) return rc;
    }
    if ((f = json_object_get(obj, "shutdown"))) {
        lb_spec_join_path(p, sizeof p, path, "shutdown");
        if ((rc = parse_shutdown(v, f, p, t))) return rc;
    }
    return 0;
}

/* The probe's fields that do not fit its kind, and what a port is needed for. */
static int check_variant(const validator *v, const lb_target_variant_spec *t, const probe_paths *pp,
                         const char *port_path, const char *vpath)
{
    bool http_probe = t->probe == LB_PROBE_GO_PPROF || t->probe == LB_PROBE_PROMETHEUS;
    const char *kind = lb_probe_kind_name(t->probe);
    if (t->probe_path[0] && !http_probe)
        return lb_spec_fail(v, pp->path,
                            "only for the go_pprof and prometheus probes (this probe is %s)", kind);
    if (t->probe_metric[0] && t->probe != LB_PROBE_PROMETHEUS)
        return lb_spec_fail(v, pp->metric, "only for the prometheus probe (this probe is %s)",
                            kind);
    if (t->n_labels && t->probe != LB_PROBE_PROMETHEUS)
        return lb_spec_fail(v, pp->labels, "only for the prometheus probe (this probe is %s)",
                            kind);
    if (t->probe == LB_PROBE_PROMETHEUS && !t->probe_metric[0]) {
        char p[640];
        snprintf(p, sizeof p, "%.600s", pp->kind);
        char *dot = strrchr(p, '.');
        if (dot) snprintf(dot, sizeof p - (size_t)(dot - p), ".metric");
        return lb_spec_fail(v, p,
                            "required for the prometheus probe (the gauge's name, e.g. "
                            "go_goroutines)");
    }
    if (t->port == LB_TARGET_PORT_NONE)
        return lb_spec_fail(v, port_path[0] ? port_path : vpath,
                            "null (no port) is not allowed in a run: the load engine sends its "
                            "requests to 127.0.0.1:{port}");
    return 0;
}

static int parse_variant(const validator *v, const json_t *target, const char *path,
                         const char *name, lb_target_variant_spec *t)
{
    static const char *const keys[] = {"command", "cwd",   "env",      "port",
                                       "ready",   "probe", "shutdown", NULL};
    char vpath[600], p[600], port_path[600] = "";
    probe_paths pp = {"", "", "", ""};
    int rc;
    lb_target_variant_defaults(t);
    lb_spec_join_path(vpath, sizeof vpath, path, name);
    const json_t *j = json_object_get(target, name);
    if (!j)
        return lb_spec_fail(v, vpath,
                            "missing (a target pair needs a \"leaky\" and a \"graceful\" "
                            "program, each {\"command\": [...]})");
    if ((rc = lb_spec_get_object(v, j, vpath)) || (rc = lb_spec_check_keys(v, j, vpath, keys)))
        return rc;
    if ((rc = parse_common(v, target, path, t, &pp, port_path, sizeof port_path)) ||
        (rc = parse_common(v, j, vpath, t, &pp, port_path, sizeof port_path)))
        return rc;
    const json_t *f = json_object_get(j, "command");
    lb_spec_join_path(p, sizeof p, vpath, "command");
    if (!f) return lb_spec_fail(v, p, "missing (the program and its arguments, an array)");
    if ((rc = parse_command(v, f, p, t))) return rc;
    if ((f = json_object_get(j, "cwd"))) {
        lb_spec_join_path(p, sizeof p, vpath, "cwd");
        if ((rc = get_field(v, f, p, t->cwd, sizeof t->cwd))) return rc;
        if (!t->cwd[0]) return lb_spec_fail(v, p, "empty (leave it out for the current directory)");
    }
    if ((f = json_object_get(j, "env"))) {
        lb_spec_join_path(p, sizeof p, vpath, "env");
        if ((rc = parse_env(v, f, p, t))) return rc;
    }
    return check_variant(v, t, &pp, port_path, vpath);
}

int lb_target_spec_parse(const lb_spec_validator *v, const json_t *j, const char *path,
                         lb_target_spec *out)
{
    static const char *const keys[] = {"leaky", "graceful", "port", "ready",
                                       "probe", "shutdown", NULL};
    int rc;
    if ((rc = lb_spec_get_object(v, j, path)) || (rc = lb_spec_check_keys(v, j, path, keys)))
        return rc;
    if ((rc = parse_variant(v, j, path, "leaky", &out->leaky)) ||
        (rc = parse_variant(v, j, path, "graceful", &out->graceful)))
        return rc;
    out->active = true;
    return 0;
}

/* ------------------------------------------------------------ as JSON -- */

json_t *lb_target_variant_json(const lb_target_variant_spec *t)
{
    json_t *cmd = json_array(), *env = json_object();
    for (int i = 0; i < t->argc; i++)
        json_array_append_new(cmd, json_string(t->text + t->arg_at[i]));
    for (int i = 0; i < t->n_env; i++) {
        const char *kv = t->text + t->env_at[i], *eq = strchr(kv, '=');
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
        json_object_set_new(env, name, json_string(eq + 1));
    }
    json_t *port = t->port == LB_TARGET_PORT_AUTO   ? json_string("auto")
                   : t->port == LB_TARGET_PORT_NONE ? json_null()
                                                    : json_integer(t->port);
    json_t *ready = t->ready == LB_READY_HTTP ? json_pack("{s:s}", "http", t->ready_path)
                                              : json_pack("{s:b}", "tcp", 1);
    if (ready) json_object_set_new(ready, "timeout_ms", json_integer(t->ready_timeout_ms));
    json_t *probe =
        json_pack("{s:s, s:i, s:i}", "kind", lb_probe_kind_name(t->probe), "interval_ms",
                  t->probe_interval_ms, "timeout_ms", t->probe_timeout_ms);
    if (probe && t->probe_path[0]) json_object_set_new(probe, "path", json_string(t->probe_path));
    if (probe && t->probe_metric[0])
        json_object_set_new(probe, "metric", json_string(t->probe_metric));
    if (probe && t->n_labels) {
        json_t *labels = json_object();
        for (int i = 0; i < t->n_labels; i++) {
            const char *name = t->text + t->label_at[i];
            json_object_set_new(labels, name, json_string(name + strlen(name) + 1));
        }
        json_object_set_new(probe, "labels", labels);
    }
    json_t *o =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:{s:s, s:i}}", "command", cmd, "env", env, "port",
                  port, "ready", ready, "probe", probe, "shutdown", "signal",
                  lb_target_signal_spec_name(t->shutdown_signal), "grace_ms", t->shutdown_grace_ms);
    if (o && t->cwd[0]) json_object_set_new(o, "cwd", json_string(t->cwd));
    return o;
}

void lb_target_spec_as_run(json_t *spec, const char *name, const lb_target_spec *t)
{
    static const char *const builtin_only[] = {"scenario",  "pool_size", "queue_capacity",
                                               "scheduler", "knobs",     "shutdown_grace_ms",
                                               "listen",    NULL};
    for (const char *const *k = builtin_only; *k; k++) json_object_del(spec, *k);
    json_object_set_new(spec, "name", json_string(name));
    json_t *pair = json_pack("{s:o, s:o}", "leaky", lb_target_variant_json(&t->leaky), "graceful",
                             lb_target_variant_json(&t->graceful));
    if (pair) json_object_set_new(spec, "target", pair);
}

/* ------------------------------------------------------- command line -- */

int lb_target_variant_from_cmdline(const char *cmd_option, const char *cmd, const char *probe,
                                   const char *ready, lb_target_variant_spec *v, char *err,
                                   size_t n)
{
    lb_target_variant_defaults(v);
    char *words[LB_TARGET_MAX_ARGS], why[256];
    int nw = 0;
    int rc = lb_split_words(cmd, words, LB_TARGET_MAX_ARGS, &nw, why, sizeof why);
    if (rc) {
        snprintf(err, n, "%s: %s", cmd_option, why);
        return rc;
    }
    if (nw == 0) {
        snprintf(err, n, "%s: empty command", cmd_option);
        return -EINVAL;
    }
    for (int i = 0; i < nw && !rc; i++) {
        if (add_text(v, words[i], NULL, &v->arg_at[i])) {
            snprintf(err, n, "%s: longer than %d characters", cmd_option, LB_TARGET_TEXT_MAX);
            rc = -EINVAL;
        }
        v->argc = i + 1;
    }
    lb_split_words_free(words, nw);
    if (rc) return rc;
    if (probe && lb_probe_kind_parse(probe, &v->probe)) {
        snprintf(err, n, "--probe: unknown probe '%.60s' (expected go_pprof, threads or none)",
                 probe);
        return -EINVAL;
    }
    if (v->probe == LB_PROBE_PROMETHEUS) {
        snprintf(err, n, "--probe: prometheus needs a metric name: use a spec file");
        return -EINVAL;
    }
    if (ready && !strcmp(ready, "tcp")) {
        v->ready = LB_READY_TCP;
    } else if (ready) {
        if (ready[0] != '/' || strpbrk(ready, " \t\r\n") || strlen(ready) >= sizeof v->ready_path) {
            snprintf(err, n, "--ready: '%.60s' is neither tcp nor an HTTP path starting with '/'",
                     ready);
            return -EINVAL;
        }
        v->ready = LB_READY_HTTP;
        snprintf(v->ready_path, sizeof v->ready_path, "%s", ready);
    }
    return 0;
}

/* ------------------------------------------------------------ validate -- */

static void describe_variant(FILE *out, const char *label, const lb_target_variant_spec *v)
{
    char word[512];
    fprintf(out, "  %-9s", label);
    for (int i = 0; i < v->argc; i++)
        fprintf(out, " %s", lb_quote_word(v->text + v->arg_at[i], word, sizeof word));
    fprintf(out, "\n            cwd %s", v->cwd[0] ? v->cwd : "(current directory)");
    for (int i = 0; i < v->n_env; i++)
        fprintf(out, "%s%s", i ? " " : "; env ",
                lb_quote_word(v->text + v->env_at[i], word, sizeof word));
    if (v->port == LB_TARGET_PORT_AUTO)
        fprintf(out, "; port auto\n");
    else
        fprintf(out, "; port %d\n", v->port);
    if (v->ready == LB_READY_HTTP)
        fprintf(out, "            ready: GET %s answers 2xx within %d ms\n", v->ready_path,
                v->ready_timeout_ms);
    else
        fprintf(out, "            ready: a TCP connect within %d ms\n", v->ready_timeout_ms);
    fprintf(out, "            probe: %s", lb_probe_kind_name(v->probe));
    if (v->probe != LB_PROBE_NONE) {
        if (v->probe_path[0]) fprintf(out, " GET %s", v->probe_path);
        if (v->probe_metric[0]) fprintf(out, ", gauge %s", v->probe_metric);
        char labels[1024];
        if (v->n_labels && !lb_target_variant_labels(v, labels, sizeof labels))
            fprintf(out, "{%s}", labels);
        fprintf(out, " every %d ms (timeout %d ms)", v->probe_interval_ms, v->probe_timeout_ms);
    }
    fprintf(out, "\n            shutdown: %s, grace %d ms\n",
            lb_target_signal_spec_name(v->shutdown_signal), v->shutdown_grace_ms);
}

void lb_target_spec_describe(FILE *out, const char *name, const lb_target_spec *t)
{
    fprintf(out, "%s: target pair\n", name);
    describe_variant(out, "leaky:", &t->leaky);
    describe_variant(out, "graceful:", &t->graceful);
}
