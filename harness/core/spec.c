/*
 * spec.c — loads and validates scenario and suite files (see spec.h).
 *
 * How it works.  jansson parses the file with JSON_REJECT_DUPLICATES; its
 * json_error_t gives line and column for syntax errors.  Then every object
 * is walked against a fixed table of known keys: an unknown key, a wrong
 * type or an out-of-range value stops validation with the file name and
 * the JSON path of the offending field ("$.load.rate").  A suite file's
 * "defaults" and each entry of "scenarios" are first validated on their
 * own (so an error points at the object that holds the bad field), then
 * merged (defaults first, the entry over them, objects merged key by key)
 * and validated again as a complete scenario, which adds the checks that
 * involve several fields (required keys, open vs closed load, ranges that
 * depend on each other, knobs of the named scenario).  Nothing runs unless
 * every scenario of every file is valid.
 */
#include "spec.h"
#include "spec_internal.h"
#include "infile.h"
#include "units.h"
#include "suggest.h"

/* A spec or suite file larger than this is refused unread. */
#define LB_SPEC_MAX_BYTES (4u << 20)
#include "threshold.h"
#include "jsonutil.h"
#include "http_url.h"
#include "request_template.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ----------------------------------------------------------- messages -- */

typedef lb_spec_validator validator;

static int __attribute__((format(printf, 3, 4)))
fail(const validator *v, const char *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char text[sizeof v->err->text];
    snprintf(text, sizeof text, "%s: %s: %s", v->file, path, msg);
    /* Messages quote names and values from the file: no control byte of
     * theirs reaches the terminal. */
    lb_escape_controls(v->err->text, sizeof v->err->text, text);
    return -EINVAL;
}

/* Formats a free-form message into err (through a va_list, so long file
 * names are truncated instead of overflowing). */
static void __attribute__((format(printf, 2, 3)))
set_error(lb_spec_error *err, const char *fmt, ...)
{
    char text[sizeof err->text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    lb_escape_controls(err->text, sizeof err->text, text);
}

/* out = base + "." + key, truncated to n - 1 characters. */
static void join_path(char *out, size_t n, const char *base, const char *key)
{
    size_t used = 0;
    for (const char *p = base; *p && used + 1 < n; p++) out[used++] = *p;
    if (used + 1 < n) out[used++] = '.';
    for (const char *p = key; *p && used + 1 < n; p++) out[used++] = *p;
    out[used] = 0;
}

/* ------------------------------------------------------ typed getters -- */

static int get_number(const validator *v, const json_t *j, const char *path, double min, double max,
                      double *out)
{
    if (!json_is_number(j)) return fail(v, path, "expected a number, got %s", lb_json_type_name(j));
    double x = json_number_value(j);
    if (!isfinite(x) || x < min || x > max)
        return fail(v, path, "%g is out of range [%g, %g]", x, min, max);
    *out = x;
    return 0;
}

/* Positive-only numbers: (0, max]. */
static int get_positive(const validator *v, const json_t *j, const char *path, double max,
                        double *out)
{
    if (!json_is_number(j)) return fail(v, path, "expected a number, got %s", lb_json_type_name(j));
    double x = json_number_value(j);
    if (!isfinite(x) || x <= 0 || x > max)
        return fail(v, path, "%g is out of range (0, %g]", x, max);
    *out = x;
    return 0;
}

static int get_integer(const validator *v, const json_t *j, const char *path, int64_t min,
                       int64_t max, int64_t *out)
{
    if (!json_is_integer(j)) {
        if (json_is_real(j))
            return fail(v, path, "expected an integer, got %g", json_real_value(j));
        return fail(v, path, "expected an integer, got %s", lb_json_type_name(j));
    }
    json_int_t x = json_integer_value(j);
    if (x < min || x > max)
        return fail(v, path, "%lld is out of range [%lld, %lld]", (long long)x, (long long)min,
                    (long long)max);
    *out = x;
    return 0;
}

static int get_string(const validator *v, const json_t *j, const char *path, const char **out)
{
    if (!json_is_string(j)) return fail(v, path, "expected a string, got %s", lb_json_type_name(j));
    *out = json_string_value(j);
    return 0;
}

/* A "description": free text of fewer than LB_SPEC_DESCRIPTION_MAX
 * bytes, copied to OUT. */
static int get_description(const validator *v, const json_t *j, const char *path, char *out)
{
    const char *text = NULL;
    int rc = get_string(v, j, path, &text);
    if (rc) return rc;
    if (strlen(text) >= LB_SPEC_DESCRIPTION_MAX)
        return fail(v, path, "%zu bytes long, more than the %d a description may have",
                    strlen(text), LB_SPEC_DESCRIPTION_MAX - 1);
    snprintf(out, LB_SPEC_DESCRIPTION_MAX, "%s", text);
    return 0;
}

/* Frees the threshold ASTs a scenario spec holds. */
static void free_thresholds(lb_scenario_spec *s)
{
    for (int t = 0; t < s->n_thresholds; t++) lb_threshold_free(&s->thresholds[t]);
    s->n_thresholds = 0;
}

static int get_object(const validator *v, const json_t *j, const char *path)
{
    if (!json_is_object(j))
        return fail(v, path, "expected an object, got %s", lb_json_type_name(j));
    return 0;
}

/* Rejects keys not in the NULL-terminated list. */
static int check_keys(const validator *v, const json_t *obj, const char *path,
                      const char *const *known)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        bool ok = false;
        for (const char *const *k = known; *k; k++)
            if (!strcmp(*k, key)) ok = true;
        if (!ok) {
            char msg[512] = "";
            size_t used = 0;
            for (const char *const *k = known; *k && used < sizeof msg - 64; k++)
                used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s",
                                         k == known ? "" : ", ", *k);
            char p[512];
            join_path(p, sizeof p, path, key);
            lb_suggester sg;
            lb_suggest_begin(&sg, key, strlen(key));
            for (const char *const *k = known; *k; k++) lb_suggest_try(&sg, *k);
            const char *best = lb_suggest_best(&sg);
            if (best)
                return fail(v, p, "unknown key (expected one of: %s; did you mean '%s'?)", msg,
                            best);
            return fail(v, p, "unknown key (expected one of: %s)", msg);
        }
    }
    return 0;
}

#define FIELD(obj, key) json_object_get((obj), (key))

/* The helpers above, for the parts of the spec in their own files
 * (spec_internal.h). */
int lb_spec_fail(const validator *v, const char *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail(v, path, "%s", msg);
}
void lb_spec_join_path(char *out, size_t n, const char *base, const char *key)
{
    join_path(out, n, base, key);
}
int lb_spec_get_integer(const validator *v, const json_t *j, const char *path, int64_t min,
                        int64_t max, int64_t *out)
{
    return get_integer(v, j, path, min, max, out);
}
int lb_spec_get_string(const validator *v, const json_t *j, const char *path, const char **out)
{
    return get_string(v, j, path, out);
}
int lb_spec_get_object(const validator *v, const json_t *j, const char *path)
{
    return get_object(v, j, path);
}
int lb_spec_check_keys(const validator *v, const json_t *obj, const char *path,
                       const char *const *known)
{
    return check_keys(v, obj, path, known);
}

/* --------------------------------------------------------- sub-objects -- */

static const double LB_MAX_MS = 86400000.0; /* one day */

/* --------------------------------------------------------------- http -- */

/*
 * The HTTP transport's fields: "transport", "listen", "url", "request",
 * "max_response_bytes" and "load.connections".  Kept together here so the
 * rest of the loader only calls in: parse_http (types, values, template
 * syntax), check_http (what needs the whole scenario) and store_http (the
 * request strings, copied only for a complete scenario, like thresholds).
 */

static void set_http_defaults(lb_http_spec *h)
{
    memset(h, 0, sizeof *h);
    h->transport = LB_TRANSPORT_INPROC;
    h->listen = LB_LISTEN_TCP;
    h->max_response_bytes = LB_HTTP_DEFAULT_MAX_RESPONSE;
}

const char *lb_transport_name(lb_transport t)
{
    return t == LB_TRANSPORT_HTTP ? "http" : "inproc";
}

const char *lb_listen_name(lb_listen_kind k)
{
    return k == LB_LISTEN_UNIX ? "unix" : "tcp";
}

int lb_http_connections(const lb_scenario_spec *s)
{
    if (s->http.connections > 0) return s->http.connections;
    if (s->model == LB_LOAD_CLOSED) return s->clients;
    return LB_HTTP_DEFAULT_CONNECTIONS;
}

static int parse_load_connections(const validator *v, const json_t *load, const char *path,
                                  lb_scenario_spec *s)
{
    const json_t *f = FIELD(load, "connections");
    if (!f) return 0;
    char p[512];
    int64_t x;
    join_path(p, sizeof p, path, "connections");
    int rc = get_integer(v, f, p, 1, 100000, &x);
    if (!rc) s->http.connections = (int)x;
    return rc;
}

/* A template string: placeholders known, and no byte that would break
 * the request (CR, LF, NUL) unless it is a body. */
static int check_template_text(const validator *v, const char *text, const char *path, bool body,
                               bool spaces_ok)
{
    for (const char *c = text; *c && !body; c++)
        if (*c == '\r' || *c == '\n' || (!spaces_ok && (*c == ' ' || *c == '\t')))
            return fail(v, path, "character %zu: %s not allowed here", (size_t)(c - text) + 1,
                        *c == ' '    ? "a space is"
                        : *c == '\t' ? "a tab is"
                                     : "a line break is");
    lb_template t;
    lb_tpl_error te;
    int rc = lb_template_compile(text, &t, &te);
    if (rc == -EINVAL) return fail(v, path, "character %zu: %s", te.pos, te.text);
    if (rc) return fail(v, path, "out of memory");
    lb_template_free(&t);
    return 0;
}

static bool is_token(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s))) return false;
    return true;
}

static int parse_request_headers(const validator *v, const json_t *j, const char *path)
{
    int rc;
    if ((rc = get_object(v, j, path))) return rc;
    if (json_object_size(j) > LB_MAX_REQUEST_HEADERS)
        return fail(v, path, "%zu headers, at most %d", json_object_size(j),
                    LB_MAX_REQUEST_HEADERS);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val)
    {
        char p[600];
        const char *text = NULL;
        join_path(p, sizeof p, path, key);
        if (!is_token(key)) return fail(v, p, "not a valid header name");
        if (!strcasecmp(key, "Host") || !strcasecmp(key, "Content-Length") ||
            !strcasecmp(key, "Transfer-Encoding"))
            return fail(v, p, "set by the load engine, not by the template");
        if ((rc = get_string(v, val, p, &text)) ||
            (rc = check_template_text(v, text, p, false, true)))
            return rc;
    }
    return 0;
}

static int parse_one_request(const validator *v, const json_t *j, const char *path)
{
    static const char *const keys[] = {"method", "path", "headers", "body", "weight", NULL};
    char p[600];
    int rc;
    if ((rc = get_object(v, j, path)) || (rc = check_keys(v, j, path, keys))) return rc;
    const json_t *f;
    const char *text = NULL;
    if ((f = FIELD(j, "method"))) {
        join_path(p, sizeof p, path, "method");
        if ((rc = get_string(v, f, p, &text))) return rc;
        if (!is_token(text) || strlen(text) > 32)
            return fail(v, p, "'%.40s' is not an HTTP method (a token such as GET or POST)", text);
    }
    if ((f = FIELD(j, "path"))) {
        join_path(p, sizeof p, path, "path");
        if ((rc = get_string(v, f, p, &text))) return rc;
        if (text[0] != '/') return fail(v, p, "must start with '/'");
        if ((rc = check_template_text(v, text, p, false, false))) return rc;
    }
    if ((f = FIELD(j, "headers"))) {
        join_path(p, sizeof p, path, "headers");
        if ((rc = parse_request_headers(v, f, p))) return rc;
    }
    if ((f = FIELD(j, "body"))) {
        join_path(p, sizeof p, path, "body");
        if ((rc = get_string(v, f, p, &text)) || (rc = check_template_text(v, text, p, true, true)))
            return rc;
    }
    if ((f = FIELD(j, "weight"))) {
        double w;
        join_path(p, sizeof p, path, "weight");
        if ((rc = get_positive(v, f, p, 1e6, &w))) return rc;
    }
    return 0;
}

static int parse_request(const validator *v, const json_t *j, const char *path)
{
    if (json_is_object(j)) return parse_one_request(v, j, path);
    if (!json_is_array(j))
        return fail(v, path, "expected an object or an array of objects, got %s",
                    lb_json_type_name(j));
    size_t n = json_array_size(j);
    if (n == 0 || n > LB_MAX_REQUEST_TEMPLATES)
        return fail(v, path, "expected 1 to %d request templates, got %zu",
                    LB_MAX_REQUEST_TEMPLATES, n);
    for (size_t i = 0; i < n; i++) {
        char p[600];
        snprintf(p, sizeof p, "%.500s[%zu]", path, i);
        int rc = parse_one_request(v, json_array_get(j, i), p);
        if (rc) return rc;
    }
    return 0;
}

static int parse_http(const validator *v, const json_t *j, const char *path, lb_scenario_spec *s)
{
    char p[512];
    int rc;
    const json_t *f;
    const char *text = NULL;
    if ((f = FIELD(j, "transport"))) {
        join_path(p, sizeof p, path, "transport");
        if ((rc = get_string(v, f, p, &text))) return rc;
        if (!strcmp(text, "http"))
            s->http.transport = LB_TRANSPORT_HTTP;
        else if (!strcmp(text, "inproc"))
            s->http.transport = LB_TRANSPORT_INPROC;
        else
            return fail(v, p, "unknown transport '%s' (expected inproc or http)", text);
    }
    if ((f = FIELD(j, "listen"))) {
        join_path(p, sizeof p, path, "listen");
        if ((rc = get_string(v, f, p, &text))) return rc;
        if (!strcmp(text, "tcp"))
            s->http.listen = LB_LISTEN_TCP;
        else if (!strcmp(text, "unix"))
            s->http.listen = LB_LISTEN_UNIX;
        else
            return fail(v, p, "unknown listener '%s' (expected tcp or unix)", text);
    }
    if ((f = FIELD(j, "url"))) {
        join_path(p, sizeof p, path, "url");
        if ((rc = get_string(v, f, p, &text))) return rc;
        lb_http_url url;
        char msg[400];
        if (lb_http_url_parse(text, &url, msg, sizeof msg)) return fail(v, p, "%s", msg);
        snprintf(s->http.url, sizeof s->http.url, "%s", text);
    }
    if ((f = FIELD(j, "request"))) {
        join_path(p, sizeof p, path, "request");
        if ((rc = parse_request(v, f, p))) return rc;
    }
    if ((f = FIELD(j, "max_response_bytes"))) {
        join_path(p, sizeof p, path, "max_response_bytes");
        if ((rc = get_integer(v, f, p, 256, INT64_C(1) << 30, &s->http.max_response_bytes)))
            return rc;
    }
    return 0;
}

/* What only makes sense with the HTTP transport, or not together. */
static int check_http(const validator *v, const json_t *j, const char *path,
                      const lb_scenario_spec *s)
{
    char p[512];
    const json_t *load = FIELD(j, "load");
    if (s->http.transport != LB_TRANSPORT_HTTP) {
        static const char *const http_only[] = {"listen", "url", "request", "max_response_bytes",
                                                NULL};
        for (const char *const *k = http_only; *k; k++)
            if (FIELD(j, *k)) {
                join_path(p, sizeof p, path, *k);
                return fail(v, p, "only allowed with \"transport\": \"http\"");
            }
        if (load && FIELD(load, "connections")) {
            join_path(p, sizeof p, path, "load.connections");
            return fail(v, p, "only allowed with \"transport\": \"http\"");
        }
        return 0;
    }
    if (FIELD(j, "url") && FIELD(j, "listen")) {
        join_path(p, sizeof p, path, "listen");
        return fail(v, p, "not allowed with url (the target already listens there)");
    }
    return 0;
}

static char *dup_or_null(const json_t *j)
{
    return j ? strdup(json_string_value(j)) : NULL;
}

static void free_http(lb_http_spec *h)
{
    for (int i = 0; i < h->n_requests; i++) {
        lb_request_spec *r = &h->requests[i];
        free(r->method);
        free(r->path);
        free(r->body);
        for (int k = 0; k < r->n_headers; k++) {
            free(r->header_name[k]);
            free(r->header_value[k]);
        }
    }
    h->n_requests = 0;
}

/* Copies the (validated) request templates into s: 0 or -ENOMEM. */
static int store_http(const json_t *j, lb_scenario_spec *s)
{
    const json_t *req = FIELD(j, "request");
    if (!req) return 0;
    size_t n = json_is_array(req) ? json_array_size(req) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_is_array(req) ? json_array_get(req, i) : req;
        lb_request_spec *r = &s->http.requests[s->http.n_requests++];
        memset(r, 0, sizeof *r);
        const json_t *m = FIELD(o, "method"), *pa = FIELD(o, "path"), *w = FIELD(o, "weight");
        r->method = m ? strdup(json_string_value(m)) : strdup(LB_HTTP_DEFAULT_METHOD);
        r->path = pa ? strdup(json_string_value(pa)) : strdup(LB_HTTP_DEFAULT_PATH);
        r->body = dup_or_null(FIELD(o, "body"));
        r->weight = w ? json_number_value(w) : 1;
        if (!r->method || !r->path || (FIELD(o, "body") && !r->body)) return -ENOMEM;
        const char *key;
        json_t *val;
        json_object_foreach(FIELD(o, "headers"), key, val)
        {
            r->header_name[r->n_headers] = strdup(key);
            r->header_value[r->n_headers] = strdup(json_string_value(val));
            r->n_headers++;
            if (!r->header_name[r->n_headers - 1] || !r->header_value[r->n_headers - 1])
                return -ENOMEM;
        }
    }
    return 0;
}

/* The HTTP fields as run (only for the HTTP transport). */
static void add_http_json(json_t *o, const lb_scenario_spec *s)
{
    const lb_http_spec *h = &s->http;
    json_object_set_new(o, "transport", json_string(lb_transport_name(h->transport)));
    if (h->transport != LB_TRANSPORT_HTTP) return;
    if (h->url[0])
        json_object_set_new(o, "url", json_string(h->url));
    else
        json_object_set_new(o, "listen", json_string(lb_listen_name(h->listen)));
    json_object_set_new(o, "max_response_bytes", json_integer(h->max_response_bytes));
    json_object_set_new(json_object_get(o, "load"), "connections",
                        json_integer(lb_http_connections(s)));
    json_t *reqs = json_array();
    for (int i = 0; i < (h->n_requests ? h->n_requests : 1); i++) {
        const lb_request_spec *r = h->n_requests ? &h->requests[i] : NULL;
        json_t *ro = json_pack("{s:s, s:s}", "method", r ? r->method : LB_HTTP_DEFAULT_METHOD,
                               "path", r ? r->path : LB_HTTP_DEFAULT_PATH);
        json_t *hdrs = json_object();
        for (int k = 0; r && k < r->n_headers; k++)
            json_object_set_new(hdrs, r->header_name[k], json_string(r->header_value[k]));
        json_object_set_new(ro, "headers", hdrs);
        if (r && r->body) json_object_set_new(ro, "body", json_string(r->body));
        json_object_set_new(ro, "weight", json_real(r ? r->weight : 1));
        json_array_append_new(reqs, ro);
    }
    json_object_set_new(o, "request", reqs);
}

static int parse_load(const validator *v, const json_t *j, const char *path, lb_scenario_spec *s)
{
    static const char *const keys[] = {"model",       "rate",   "clients",     "think_ms",
                                       "duration_ms", "stages", "connections", NULL};
    char p[512];
    int rc;
    if ((rc = get_object(v, j, path)) || (rc = check_keys(v, j, path, keys))) return rc;
    const json_t *f;
    if ((f = FIELD(j, "model"))) {
        const char *m = NULL;
        join_path(p, sizeof p, path, "model");
        if ((rc = get_string(v, f, p, &m))) return rc;
        if (!strcmp(m, "constant"))
            s->model = LB_LOAD_CONSTANT;
        else if (!strcmp(m, "poisson"))
            s->model = LB_LOAD_POISSON;
        else if (!strcmp(m, "closed"))
            s->model = LB_LOAD_CLOSED;
        else
            return fail(v, p, "unknown load model '%s' (expected constant, poisson or closed)", m);
    }
    if ((f = FIELD(j, "rate"))) {
        join_path(p, sizeof p, path, "rate");
        if ((rc = get_positive(v, f, p, 1e6, &s->rate))) return rc;
    }
    if ((f = FIELD(j, "clients"))) {
        int64_t c;
        join_path(p, sizeof p, path, "clients");
        if ((rc = get_integer(v, f, p, 1, 100000, &c))) return rc;
        s->clients = (int)c;
    }
    if ((f = FIELD(j, "think_ms"))) {
        join_path(p, sizeof p, path, "think_ms");
        if ((rc = get_number(v, f, p, 0, LB_MAX_MS, &s->think_ms))) return rc;
    }
    if ((f = FIELD(j, "duration_ms"))) {
        join_path(p, sizeof p, path, "duration_ms");
        if ((rc = get_positive(v, f, p, LB_MAX_MS, &s->duration_ms))) return rc;
    }
    if ((f = FIELD(j, "stages"))) {
        join_path(p, sizeof p, path, "stages");
        if (!json_is_array(f)) return fail(v, p, "expected an array, got %s", lb_json_type_name(f));
        size_t n = json_array_size(f);
        if (n == 0 || n > LB_MAX_STAGES)
            return fail(v, p, "expected 1 to %d stages, got %zu", LB_MAX_STAGES, n);
        static const char *const stage_keys[] = {"duration_ms", "rate", NULL};
        s->n_stages = (int)n;
        for (size_t i = 0; i < n; i++) {
            char sp[512], fp[600];
            snprintf(sp, sizeof sp, "%.480s[%zu]", p, i);
            const json_t *st = json_array_get(f, i);
            if ((rc = get_object(v, st, sp)) || (rc = check_keys(v, st, sp, stage_keys))) return rc;
            const json_t *d = FIELD(st, "duration_ms"), *r = FIELD(st, "rate");
            join_path(fp, sizeof fp, sp, "duration_ms");
            if (!d) return fail(v, fp, "missing (every stage needs duration_ms and rate)");
            if ((rc = get_positive(v, d, fp, LB_MAX_MS, &s->stages[i].duration_ms))) return rc;
            join_path(fp, sizeof fp, sp, "rate");
            if (!r) return fail(v, fp, "missing (every stage needs duration_ms and rate)");
            if ((rc = get_number(v, r, fp, 0, 1e6, &s->stages[i].rate))) return rc;
        }
    }
    return parse_load_connections(v, j, path, s);
}

static int parse_service(const validator *v, const json_t *j, const char *path, lb_scenario_spec *s)
{
    static const char *const keys[] = {"dist",    "ms",        "min_ms", "max_ms",
                                       "mean_ms", "median_ms", "sigma",  NULL};
    char p[512];
    int rc;
    if ((rc = get_object(v, j, path)) || (rc = check_keys(v, j, path, keys))) return rc;
    const json_t *f;
    lb_dist *d = &s->service;
    if ((f = FIELD(j, "dist"))) {
        const char *k = NULL;
        join_path(p, sizeof p, path, "dist");
        if ((rc = get_string(v, f, p, &k))) return rc;
        if (!strcmp(k, "fixed"))
            d->kind = LB_DIST_FIXED;
        else if (!strcmp(k, "uniform"))
            d->kind = LB_DIST_UNIFORM;
        else if (!strcmp(k, "exponential"))
            d->kind = LB_DIST_EXPONENTIAL;
        else if (!strcmp(k, "lognormal"))
            d->kind = LB_DIST_LOGNORMAL;
        else
            return fail(v, p,
                        "unknown distribution '%s' (expected fixed, uniform, exponential or "
                        "lognormal)",
                        k);
    }
    struct {
        const char *key;
        double *dst;
        double min, max;
    } nums[] = {
        {"ms", &d->ms, 0, LB_MAX_MS},
        {"min_ms", &d->min_ms, 0, LB_MAX_MS},
        {"max_ms", &d->max_ms, 0, LB_MAX_MS},
        {"mean_ms", &d->mean_ms, 0, LB_MAX_MS},
        {"median_ms", &d->median_ms, 0, LB_MAX_MS},
        {"sigma", &d->sigma, 0, 10},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (!(f = FIELD(j, nums[i].key))) continue;
        join_path(p, sizeof p, path, nums[i].key);
        if ((rc = get_number(v, f, p, nums[i].min, nums[i].max, nums[i].dst))) return rc;
    }
    return 0;
}

static int parse_guards(const validator *v, const json_t *j, const char *path, lb_scenario_spec *s)
{
    static const char *const keys[] = {"memory_bytes", "memory_auto_share", "tasks", "wall_ms",
                                       NULL};
    char p[512];
    int rc;
    if ((rc = get_object(v, j, path)) || (rc = check_keys(v, j, path, keys))) return rc;
    const json_t *f;
    if ((f = FIELD(j, "memory_bytes"))) {
        join_path(p, sizeof p, path, "memory_bytes");
        if (json_is_string(f)) {
            if (strcmp(json_string_value(f), "auto"))
                return fail(v, p, "expected a number of bytes or \"auto\", got \"%s\"",
                            json_string_value(f));
            s->guards.memory_auto = true;
            s->guards.memory_bytes = 0;
        } else {
            if (!json_is_integer(f))
                return fail(v, p, "expected a number of bytes or \"auto\", got %s",
                            lb_json_type_name(f));
            if ((rc = get_integer(v, f, p, 1 << 20, INT64_C(1) << 50, &s->guards.memory_bytes)))
                return rc;
            s->guards.memory_auto = false;
        }
    }
    if ((f = FIELD(j, "memory_auto_share"))) {
        join_path(p, sizeof p, path, "memory_auto_share");
        if ((rc = get_positive(v, f, p, 1, &s->guards.memory_auto_share))) return rc;
    }
    if ((f = FIELD(j, "tasks"))) {
        join_path(p, sizeof p, path, "tasks");
        if ((rc = get_integer(v, f, p, 1, 100000000, &s->guards.tasks))) return rc;
    }
    if ((f = FIELD(j, "wall_ms"))) {
        join_path(p, sizeof p, path, "wall_ms");
        if ((rc = get_positive(v, f, p, LB_MAX_MS, &s->guards.wall_ms))) return rc;
    }
    return 0;
}

/* Parses every threshold into its AST (threshold.c): kept on s in the
 * final pass over the merged object, the only time a threshold is parsed
 * for keeps; the partial passes over a suite's defaults and entries only
 * check, so an error names the file and JSON path it was written in. */
static int parse_thresholds(const validator *v, const json_t *j, const char *path,
                            lb_scenario_spec *s)
{
    int rc;
    if ((rc = get_object(v, j, path))) return rc;
    if (json_object_size(j) > LB_MAX_THRESHOLDS)
        return fail(v, path, "at most %d thresholds", LB_MAX_THRESHOLDS);
    free_thresholds(s);
    const char *key;
    json_t *val;
    /* Keys hold dots, so the path quotes them:
     * $.thresholds["graceful.peak_tasks"]. */
    json_object_foreach((json_t *)j, key, val)
    {
        char p[512], msg[512];
        snprintf(p, sizeof p, "%.250s[\"%.250s\"]", path, key);
        const char *expr = NULL;
        if ((rc = get_string(v, val, p, &expr))) return rc;
        if (!*expr) return fail(v, p, "empty threshold expression");
        lb_threshold *keep = v->partial ? NULL : &s->thresholds[s->n_thresholds];
        if ((rc = lb_threshold_check(key, expr, keep, msg, sizeof msg)))
            return rc == -EINVAL ? fail(v, p, "%s", msg) : rc;
        if (keep) s->n_thresholds++;
    }
    return 0;
}

static int parse_knobs(const validator *v, const json_t *j, const char *path, lb_scenario_spec *s)
{
    int rc;
    if ((rc = get_object(v, j, path))) return rc;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val)
    {
        char p[512];
        join_path(p, sizeof p, path, key);
        if (!json_is_number(val))
            return fail(v, p, "expected a number, got %s", lb_json_type_name(val));
        if (!s->scenario) continue; /* fragment without a scenario: checked after merging */
        const lb_scenario *sc = s->scenario;
        int k = -1;
        for (int i = 0; i < sc->n_knobs; i++)
            if (!strcmp(sc->knobs[i].name, key)) k = i;
        if (k < 0) {
            char names[256] = "";
            size_t used = 0;
            lb_suggester sg;
            lb_suggest_begin(&sg, key, strlen(key));
            for (int i = 0; i < sc->n_knobs; i++) {
                lb_suggest_try(&sg, sc->knobs[i].name);
                if (used < sizeof names - 32)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                             i ? ", " : "", sc->knobs[i].name);
            }
            const char *best = lb_suggest_best(&sg);
            if (best)
                return fail(v, p,
                            "scenario '%s' has no knob '%s' (did you mean '%s'? its knobs: %s)",
                            sc->name, key, best, names);
            return fail(v, p, "scenario '%s' has no knob '%s' (its knobs: %s)", sc->name, key,
                        sc->n_knobs ? names : "none");
        }
        const lb_knob *kn = &sc->knobs[k];
        double x = json_number_value(val);
        if (kn->integer && x != floor(x)) return fail(v, p, "expected an integer, got %g", x);
        if (x < kn->min || x > kn->max)
            return fail(v, p, "%g is out of range [%g, %g]", x, kn->min, kn->max);
        s->knob[k] = x;
    }
    return 0;
}

/* ------------------------------------------------------------ scenario -- */

static void set_defaults(lb_scenario_spec *s)
{
    memset(s, 0, sizeof *s);
    s->model = LB_LOAD_CONSTANT;
    s->rate = 100;
    s->clients = 10;
    s->think_ms = 0;
    s->duration_ms = 5000;
    s->service.kind = LB_DIST_FIXED;
    s->service.ms = 10;
    s->timeout_ms = 100;
    s->error_rate = 0;
    s->payload_bytes = 64 * 1024;
    s->pool_size = 16;
    s->queue_capacity = 64;
    s->settle_ms = 2000;
    s->shutdown_grace_ms = 500;
    s->sample_ms = 10;
    s->guards.memory_auto = true;
    s->guards.memory_auto_share = 0.5;
    s->guards.tasks = 0;
    s->guards.wall_ms = 0;
    s->scheduler = RT_SCHED_THREADS;
    s->seed = 1;
    s->repetitions = 1;
    set_http_defaults(&s->http);
}

static const char *const scenario_keys[] = {
    "scenario",     "name",           "description", "load",
    "service_time", "timeout_ms",     "error_rate",  "payload_bytes",
    "pool_size",    "queue_capacity", "settle_ms",   "shutdown_grace_ms",
    "sample_ms",    "guards",         "scheduler",   "seed",
    "repetitions",  "knobs",          "thresholds",  "transport",
    "listen",       "url",            "request",     "max_response_bytes",
    "target",       NULL};

static int read_pid_max(void)
{
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    int v = 0;
    if (f) {
        if (fscanf(f, "%d", &v) != 1) v = 0;
        fclose(f);
    }
    return v;
}

/* Checks that involve several fields; only on a complete scenario. */
static int check_complete(const validator *v, const json_t *j, const char *path,
                          lb_scenario_spec *s)
{
    char p[512];
    const json_t *load = FIELD(j, "load");
    if (s->model == LB_LOAD_CLOSED) {
        if (load && FIELD(load, "rate")) {
            join_path(p, sizeof p, path, "load.rate");
            return fail(v, p, "not allowed with the closed model (use load.clients)");
        }
        if (load && FIELD(load, "stages")) {
            join_path(p, sizeof p, path, "load.stages");
            return fail(v, p, "not allowed with the closed model");
        }
    } else {
        if (load && FIELD(load, "clients")) {
            join_path(p, sizeof p, path, "load.clients");
            return fail(v, p, "only allowed with the closed model");
        }
        if (load && FIELD(load, "think_ms")) {
            join_path(p, sizeof p, path, "load.think_ms");
            return fail(v, p, "only allowed with the closed model");
        }
    }
    if (s->n_stages > 0) {
        if (load && FIELD(load, "duration_ms")) {
            join_path(p, sizeof p, path, "load.duration_ms");
            return fail(v, p, "not allowed with stages (the load lasts as long as its stages)");
        }
        double total = 0;
        for (int i = 0; i < s->n_stages; i++) total += s->stages[i].duration_ms;
        s->duration_ms = total;
        if (total > LB_MAX_MS) {
            join_path(p, sizeof p, path, "load.stages");
            return fail(v, p, "stages last %g ms, more than %g", total, LB_MAX_MS);
        }
    }

    const lb_dist *d = &s->service;
    join_path(p, sizeof p, path, "service_time");
    const json_t *svc = FIELD(j, "service_time");
    /* Each distribution takes its own parameters and no others. */
    static const char *const fixed_keys[] = {"dist", "ms", NULL};
    static const char *const uniform_keys[] = {"dist", "min_ms", "max_ms", NULL};
    static const char *const exp_keys[] = {"dist", "mean_ms", "max_ms", NULL};
    static const char *const logn_keys[] = {"dist", "median_ms", "sigma", "max_ms", NULL};
    const char *const *allowed[] = {fixed_keys, uniform_keys, exp_keys, logn_keys};
    if (svc) {
        int rc = check_keys(v, svc, p, allowed[d->kind]);
        if (rc) return rc;
    }
    switch (d->kind) {
    case LB_DIST_FIXED:
        break;
    case LB_DIST_UNIFORM:
        if (!svc || !FIELD(svc, "max_ms")) {
            join_path(p, sizeof p, path, "service_time.max_ms");
            return fail(v, p, "required for the uniform distribution");
        }
        if (d->max_ms < d->min_ms) {
            join_path(p, sizeof p, path, "service_time.max_ms");
            return fail(v, p, "%g is below min_ms (%g)", d->max_ms, d->min_ms);
        }
        break;
    case LB_DIST_EXPONENTIAL:
        if (d->mean_ms <= 0) {
            join_path(p, sizeof p, path, "service_time.mean_ms");
            return fail(v, p, "required and above 0 for the exponential distribution");
        }
        break;
    case LB_DIST_LOGNORMAL:
        if (d->median_ms <= 0) {
            join_path(p, sizeof p, path, "service_time.median_ms");
            return fail(v, p, "required and above 0 for the lognormal distribution");
        }
        break;
    }

    if (s->target.active) return 0; /* the rest is about leakbench's own runtime */
    if (s->guards.tasks > 0 && s->pool_size >= s->guards.tasks) {
        join_path(p, sizeof p, path, "pool_size");
        return fail(v, p,
                    "%d is not below guards.tasks (%lld): the graceful twin's workers alone "
                    "would trip the task guard",
                    s->pool_size, (long long)s->guards.tasks);
    }
    if (s->scheduler == RT_SCHED_THREADS && s->guards.tasks > 0) {
        int pid_max = read_pid_max();
        if (pid_max > 0 && s->guards.tasks > (int64_t)pid_max * 9 / 10) {
            join_path(p, sizeof p, path, "guards.tasks");
            return fail(v, p,
                        "%lld is above 90%% of the kernel's pid_max (%d): on the threads "
                        "scheduler every task is an OS thread",
                        (long long)s->guards.tasks, pid_max);
        }
    }
    return 0;
}

/* A target pair: the fields of built-in pairs are errors, a name is
 * required, and the transport is HTTP (the only way to reach a program). */
static int check_target(const validator *v, const json_t *j, const char *path, lb_scenario_spec *s)
{
    if (!s->target.active) return 0;
    static const struct {
        const char *key, *why;
    } builtin_only[] = {
        {"scenario", "names a built-in pair; a scenario runs either a built-in pair or a target"},
        {"scheduler", "is leakbench's own runtime's; a target has its own"},
        {"knobs", "are a built-in pair's parameters; pass a target's in its command"},
        {"pool_size", "sizes a built-in pair's worker pool; a target sizes its own"},
        {"queue_capacity", "sizes a built-in pair's queue; a target sizes its own"},
        {"listen", "is where leakbench's own server listens; a target listens on its port"},
        {"url", "names a server already running; a target is started on its port"},
        {"shutdown_grace_ms", "is a built-in pair's; use target.shutdown.grace_ms"},
    };
    char p[512];
    for (size_t i = 0; i < sizeof builtin_only / sizeof builtin_only[0]; i++)
        if (FIELD(j, builtin_only[i].key)) {
            join_path(p, sizeof p, path, builtin_only[i].key);
            return fail(v, p, "not allowed with a target: %s", builtin_only[i].why);
        }
    if (FIELD(j, "transport") && s->http.transport != LB_TRANSPORT_HTTP) {
        join_path(p, sizeof p, path, "transport");
        return fail(v, p, "a target is driven over HTTP: leave it out or say \"http\"");
    }
    if (!FIELD(j, "name")) {
        join_path(p, sizeof p, path, "name");
        return fail(v, p, "missing (a target pair needs a name for results and compare)");
    }
    s->http.transport = LB_TRANSPORT_HTTP;
    int g1 = s->target.leaky.shutdown_grace_ms, g2 = s->target.graceful.shutdown_grace_ms;
    s->shutdown_grace_ms = g1 > g2 ? g1 : g2;
    return 0;
}

/*
 * Validates a scenario object at path; fills s (which holds defaults or
 * earlier values).  In partial mode "scenario" may be missing and the
 * cross-field checks are skipped.
 */
static int parse_scenario(const validator *v, const json_t *j, const char *path,
                          lb_scenario_spec *s)
{
    char p[512];
    int rc;
    if ((rc = get_object(v, j, path)) || (rc = check_keys(v, j, path, scenario_keys))) return rc;
    const json_t *f;
    if ((f = FIELD(j, "scenario"))) {
        const char *name = NULL;
        join_path(p, sizeof p, path, "scenario");
        if ((rc = get_string(v, f, p, &name))) return rc;
        const lb_scenario *sc = lb_scenario_find(name);
        if (!sc) {
            lb_suggester sg;
            lb_suggest_begin(&sg, name, strlen(name));
            for (size_t i = 0; i < lb_scenario_count(); i++)
                lb_suggest_try(&sg, lb_scenario_at(i)->name);
            const char *best = lb_suggest_best(&sg);
            if (best)
                return fail(v, p,
                            "unknown scenario '%s' (did you mean '%s'? `leakbench list` "
                            "shows them)",
                            name, best);
            return fail(v, p, "unknown scenario '%s' (`leakbench list` shows them)", name);
        }
        s->scenario = sc;
        snprintf(s->name, sizeof s->name, "%s", sc->name);
        for (int i = 0; i < sc->n_knobs && i < LB_MAX_KNOBS; i++) s->knob[i] = sc->knobs[i].def;
    } else if (!v->partial && !FIELD(j, "target")) {
        join_path(p, sizeof p, path, "scenario");
        return fail(v, p, "missing (the name of a scenario pair, see `leakbench list`)");
    }
    if ((f = FIELD(j, "target"))) {
        join_path(p, sizeof p, path, "target");
        if ((rc = lb_target_spec_parse(v, f, p, &s->target))) return rc;
    }
    if ((f = FIELD(j, "name"))) {
        /* What results, compare, baselines and history call this entry;
         * the scenario's name unless given (a suite that runs one pair under
         * several loads names each). */
        const char *name = NULL;
        join_path(p, sizeof p, path, "name");
        if ((rc = get_string(v, f, p, &name))) return rc;
        size_t len = strlen(name);
        if (len == 0 || len >= sizeof s->name ||
            strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "abcdefghijklmnopqrstuvwxyz"
                         "0123456789_.-") != len)
            return fail(v, p, "expected 1 to %zu letters, digits, '_', '.' or '-'",
                        sizeof s->name - 1);
        snprintf(s->name, sizeof s->name, "%s", name);
    }
    if ((f = FIELD(j, "description"))) {
        join_path(p, sizeof p, path, "description");
        if ((rc = get_description(v, f, p, s->description))) return rc;
    }
    if ((f = FIELD(j, "load"))) {
        join_path(p, sizeof p, path, "load");
        if ((rc = parse_load(v, f, p, s))) return rc;
    }
    if ((f = FIELD(j, "service_time"))) {
        join_path(p, sizeof p, path, "service_time");
        if ((rc = parse_service(v, f, p, s))) return rc;
    }
    struct {
        const char *key;
        double *dst;
        double min, max;
        bool positive;
    } nums[] = {
        {"timeout_ms", &s->timeout_ms, 0, LB_MAX_MS, true},
        {"error_rate", &s->error_rate, 0, 1, false},
        {"settle_ms", &s->settle_ms, 0, LB_MAX_MS, false},
        {"shutdown_grace_ms", &s->shutdown_grace_ms, 0, 600000, false},
        {"sample_ms", &s->sample_ms, 1, 60000, false},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (!(f = FIELD(j, nums[i].key))) continue;
        join_path(p, sizeof p, path, nums[i].key);
        rc = nums[i].positive ? get_positive(v, f, p, nums[i].max, nums[i].dst)
                              : get_number(v, f, p, nums[i].min, nums[i].max, nums[i].dst);
        if (rc) return rc;
    }
    int64_t x;
    if ((f = FIELD(j, "payload_bytes"))) {
        join_path(p, sizeof p, path, "payload_bytes");
        if ((rc = get_integer(v, f, p, 0, INT64_C(1) << 30, &s->payload_bytes))) return rc;
    }
    if ((f = FIELD(j, "pool_size"))) {
        join_path(p, sizeof p, path, "pool_size");
        if ((rc = get_integer(v, f, p, 1, 10000, &x))) return rc;
        s->pool_size = (int)x;
    }
    if ((f = FIELD(j, "queue_capacity"))) {
        join_path(p, sizeof p, path, "queue_capacity");
        if ((rc = get_integer(v, f, p, 0, 1000000, &s->queue_capacity))) return rc;
    }
    if ((f = FIELD(j, "seed"))) {
        join_path(p, sizeof p, path, "seed");
        if ((rc = get_integer(v, f, p, 0, INT64_MAX, &x))) return rc;
        s->seed = (uint64_t)x;
    }
    if ((f = FIELD(j, "repetitions"))) {
        join_path(p, sizeof p, path, "repetitions");
        if ((rc = get_integer(v, f, p, 1, 1000, &x))) return rc;
        s->repetitions = (int)x;
    }
    if ((f = FIELD(j, "scheduler"))) {
        const char *name = NULL;
        join_path(p, sizeof p, path, "scheduler");
        if ((rc = get_string(v, f, p, &name))) return rc;
        rt_sched_kind k;
        if (rt_sched_parse(name, &k) != 0)
            return fail(v, p, "unknown scheduler '%s' (expected threads or coroutines)", name);
        s->scheduler = k;
    }
    if ((f = FIELD(j, "guards"))) {
        join_path(p, sizeof p, path, "guards");
        if ((rc = parse_guards(v, f, p, s))) return rc;
    }
    if ((f = FIELD(j, "knobs"))) {
        join_path(p, sizeof p, path, "knobs");
        if ((rc = parse_knobs(v, f, p, s))) return rc;
    }
    if ((f = FIELD(j, "thresholds"))) {
        join_path(p, sizeof p, path, "thresholds");
        if ((rc = parse_thresholds(v, f, p, s))) return rc;
    }
    if ((rc = parse_http(v, j, path, s))) return rc;
    if (v->partial) return 0;
    if ((rc = check_target(v, j, path, s)) || (rc = check_complete(v, j, path, s)) ||
        (rc = check_http(v, j, path, s)))
        return rc;
    if ((rc = store_http(j, s))) {
        set_error(v->err, "%s: out of memory", v->file);
        return rc;
    }
    return 0;
}

/* --------------------------------------------------------------- files -- */

/* Reads NAME (or parses TEXT, when not NULL) as JSON.  A syntax error
 * names the position and jansson's reason, which quotes the token it
 * stopped at.  Without QUOTE (an included file: a suite may name any
 * absolute path) the reason is given only for a text that starts like a
 * JSON document ('{' or '['); anything else is just "not a JSON document"
 * and where, so no byte of, say, /etc/shadow is ever echoed. */
static int load_json(const char *name, const char *text, bool quote, json_t **out,
                     lb_spec_error *err)
{
    /* Read through lb_read_file: a directory, a device or a FIFO nobody
     * writes to is a clear error, never a hang or jansson's "'[' or '{'
     * expected". */
    char *owned = NULL;
    size_t len = 0;
    if (!text) {
        char why[sizeof err->text];
        int rc = lb_read_file(name, LB_SPEC_MAX_BYTES, &owned, &len, why, sizeof why);
        if (rc) {
            set_error(err, "%s", why);
            return rc;
        }
        text = owned;
    } else {
        len = strlen(text);
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        size_t lead = strspn(text, " \t\r\n");
        if (quote || (lead < len && (text[lead] == '{' || text[lead] == '[')))
            set_error(err, "%s:%d:%d: %s", name, je.line, je.column, je.text);
        else
            set_error(err, "%s:%d:%d: not a JSON document", name, je.line, je.column);
        free(owned);
        return -EINVAL;
    }
    free(owned);
    *out = j;
    return 0;
}

static int append_item(lb_spec *spec, const lb_scenario_spec *item)
{
    lb_scenario_spec *items = realloc(spec->items, (size_t)(spec->n + 1) * sizeof *items);
    if (!items) return -ENOMEM;
    spec->items = items;
    spec->items[spec->n++] = *item;
    return 0;
}

/* Validates the merged object of one scenario and appends it. */
static int add_scenario(lb_spec *spec, const char *file, const char *path, const json_t *merged,
                        lb_spec_error *err)
{
    validator v = {file, err, false};
    lb_scenario_spec s;
    set_defaults(&s);
    int rc = parse_scenario(&v, merged, path, &s);
    if (rc) {
        free_thresholds(&s);
        free_http(&s.http);
        return rc;
    }
    snprintf(s.file, sizeof s.file, "%s", file);
    snprintf(s.path, sizeof s.path, "%s", path);
    if ((rc = append_item(spec, &s))) {
        free_thresholds(&s);
        free_http(&s.http);
        set_error(err, "%s: out of memory", file);
        return rc;
    }
    return 0;
}

static void dir_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, n, ".");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

/*
 * Puts a suite entry over the defaults: "guards", "knobs" and "thresholds"
 * merge key by key; every other key (including "load" and "service_time",
 * whose fields only make sense together) replaces the default whole.
 */
static void merge_entry(json_t *merged, const json_t *entry)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)entry, key, val)
    {
        json_t *base = json_object_get(merged, key);
        bool by_key = !strcmp(key, "guards") || !strcmp(key, "knobs") || !strcmp(key, "thresholds");
        if (by_key && json_is_object(base) && json_is_object(val))
            json_object_update(base, val);
        else
            json_object_set(merged, key, val);
    }
}

static int load_suite(lb_spec *spec, const char *file, const json_t *root, lb_spec_error *err)
{
    static const char *const suite_keys[] = {"suite", "description", "defaults", "scenarios", NULL};
    validator v = {file, err, true};
    lb_scenario_spec scratch;
    int rc;
    if ((rc = check_keys(&v, root, "$", suite_keys))) return rc;
    const json_t *f;
    if ((f = FIELD(root, "suite"))) {
        const char *name = NULL;
        if ((rc = get_string(&v, f, "$.suite", &name))) return rc;
        snprintf(spec->suite, sizeof spec->suite, "%s", name);
    }
    if ((f = FIELD(root, "description")) &&
        (rc = get_description(&v, f, "$.description", spec->description)))
        return rc;
    const json_t *defaults = FIELD(root, "defaults");
    if (defaults) {
        set_defaults(&scratch);
        if ((rc = parse_scenario(&v, defaults, "$.defaults", &scratch))) return rc;
    }
    const json_t *list = FIELD(root, "scenarios");
    if (!json_is_array(list))
        return fail(&v, "$.scenarios", "expected an array, got %s", lb_json_type_name(list));
    if (json_array_size(list) == 0) return fail(&v, "$.scenarios", "empty (nothing to run)");
    char dir[4096];
    dir_of(file, dir, sizeof dir);
    for (size_t i = 0; i < json_array_size(list); i++) {
        char path[64];
        snprintf(path, sizeof path, "$.scenarios[%zu]", i);
        const json_t *entry = json_array_get(list, i);
        json_t *merged = defaults ? json_deep_copy(defaults) : json_object();
        const char *entry_file = file;
        const char *entry_path = path;
        json_t *included = NULL;
        char inc_path[8192];
        if (json_is_string(entry)) {
            /* An included scenario file, relative to the suite file. */
            const char *rel = json_string_value(entry);
            if (rel[0] == '/')
                snprintf(inc_path, sizeof inc_path, "%s", rel);
            else
                snprintf(inc_path, sizeof inc_path, "%s/%s", dir, rel);
            rc = load_json(inc_path, NULL, false, &included, err);
            if (rc) {
                json_decref(merged);
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", err->text);
                set_error(err, "%s: %s: cannot include: %s", file, path, msg);
                return -EINVAL;
            }
            if (FIELD(included, "scenarios")) {
                json_decref(merged);
                json_decref(included);
                return fail(&v, path, "includes %s, a suite (only scenario files can be included)",
                            inc_path);
            }
            entry = included;
            entry_file = inc_path;
            entry_path = "$";
        } else if (!json_is_object(entry)) {
            json_decref(merged);
            return fail(&v, path, "expected an object or the path of a scenario file, got %s",
                        lb_json_type_name(entry));
        }
        validator ve = {entry_file, err, true};
        set_defaults(&scratch);
        rc = parse_scenario(&ve, entry, entry_path, &scratch);
        if (!rc) {
            merge_entry(merged, entry);
            rc = add_scenario(spec, entry_file, entry_path, merged, err);
        }
        json_decref(merged);
        json_decref(included);
        if (rc) return rc;
    }
    return 0;
}

/* Two scenarios of one suite may not share a name: results, compare,
 * baselines and history match scenarios by name, so the second would be
 * unreachable (or, in compare, a late error).  Refused here, at validate. */
static int check_unique_names(const lb_spec *spec, lb_spec_error *err)
{
    for (int i = 1; i < spec->n; i++)
        for (int k = 0; k < i; k++)
            if (!strcmp(spec->items[i].name, spec->items[k].name)) {
                set_error(err,
                          "%s: %s: the name \"%s\" is already used at %s (results and "
                          "compare match scenarios by name: give each a \"name\")",
                          spec->items[i].file, spec->items[i].path, spec->items[i].name,
                          spec->items[k].path);
                return -EINVAL;
            }
    return 0;
}

static int load_any(const char *name, const char *text, lb_spec *out, lb_spec_error *err)
{
    memset(out, 0, sizeof *out);
    err->text[0] = 0;
    snprintf(out->path, sizeof out->path, "%s", name);
    json_t *root;
    int rc = load_json(name, text, true, &root, err);
    if (rc) return rc;
    validator v = {name, err, false};
    if (!json_is_object(root))
        rc = fail(&v, "$", "expected an object, got %s", lb_json_type_name(root));
    else if (FIELD(root, "scenarios")) {
        rc = load_suite(out, name, root, err);
        if (!rc) rc = check_unique_names(out, err);
    } else
        rc = add_scenario(out, name, "$", root, err);
    json_decref(root);
    if (rc) lb_spec_free(out);
    return rc;
}

int lb_spec_load(const char *path, lb_spec *out, lb_spec_error *err)
{
    return load_any(path, NULL, out, err);
}

int lb_spec_load_string(const char *name, const char *text, lb_spec *out, lb_spec_error *err)
{
    return load_any(name, text, out, err);
}

void lb_spec_free(lb_spec *s)
{
    for (int i = 0; i < s->n; i++) {
        free_thresholds(&s->items[i]);
        free_http(&s->items[i].http);
    }
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

/* ----------------------------------------------------------- overrides -- */

int lb_spec_apply_overrides(lb_spec *spec, const lb_spec_overrides *o, lb_spec_error *err)
{
    for (int i = 0; i < spec->n; i++) {
        lb_scenario_spec *s = &spec->items[i];
        if (o->rate >= 0) {
            if (s->model == LB_LOAD_CLOSED || s->n_stages > 0) {
                set_error(err,
                          "--rate: %s (%s %s) has a %s load; --rate applies only to an open load "
                          "without stages",
                          s->name, s->file, s->path,
                          s->model == LB_LOAD_CLOSED ? "closed" : "staged");
                return -EINVAL;
            }
            s->rate = o->rate;
        }
        if (o->duration_ms >= 0) {
            if (s->n_stages > 0) {
                set_error(err,
                          "--duration: %s (%s %s) has a staged load whose stages set its "
                          "duration",
                          s->name, s->file, s->path);
                return -EINVAL;
            }
            s->duration_ms = o->duration_ms;
        }
        if (o->sample_ms >= 0) s->sample_ms = o->sample_ms;
        if (o->repetitions >= 0) s->repetitions = o->repetitions;
        if (o->scheduler >= 0 && s->target.active) {
            set_error(err, "--scheduler: %s (%s %s) is a target pair: its programs have their own",
                      s->name, s->file, s->path);
            return -EINVAL;
        }
        if (o->scheduler >= 0) s->scheduler = (rt_sched_kind)o->scheduler;
    }
    return 0;
}

/* ---------------------------------------------------------- as run -- */

const char *lb_load_model_name(lb_load_model m)
{
    static const char *const names[] = {"constant", "poisson", "closed"};
    return (unsigned)m < 3 ? names[m] : "unknown";
}

const char *lb_dist_name(lb_dist_kind k)
{
    static const char *const names[] = {"fixed", "uniform", "exponential", "lognormal"};
    return (unsigned)k < 4 ? names[k] : "unknown";
}

double lb_spec_expected_ms(const lb_scenario_spec *s)
{
    return s->duration_ms + s->settle_ms + s->shutdown_grace_ms;
}

void lb_guards_resolve(const lb_scenario_spec *s, int64_t mem_available_bytes, lb_guards *out)
{
    *out = s->guards;
    if (out->memory_auto)
        out->memory_bytes = (int64_t)((double)mem_available_bytes * out->memory_auto_share);
    if (out->tasks == 0)
        out->tasks = s->scheduler == RT_SCHED_THREADS && !s->target.active
                         ? LB_TASKS_DEFAULT_THREADS
                         : LB_TASKS_DEFAULT_COROUTINES;
    if (out->wall_ms == 0)
        out->wall_ms = lb_spec_expected_ms(s) + 30000 + lb_target_ready_ms(&s->target);
}

static json_t *scenario_fields_json(const lb_scenario_spec *s)
{
    json_t *load = json_pack("{s:s, s:f}", "model", lb_load_model_name(s->model), "duration_ms",
                             s->duration_ms);
    if (s->model == LB_LOAD_CLOSED) {
        json_object_set_new(load, "clients", json_integer(s->clients));
        json_object_set_new(load, "think_ms", json_real(s->think_ms));
    } else {
        json_object_set_new(load, "rate", json_real(s->rate));
    }
    if (s->n_stages > 0) {
        json_object_del(load, "duration_ms");
        json_t *stages = json_array();
        for (int i = 0; i < s->n_stages; i++)
            json_array_append_new(stages,
                                  json_pack("{s:f, s:f}", "duration_ms", s->stages[i].duration_ms,
                                            "rate", s->stages[i].rate));
        json_object_set_new(load, "stages", stages);
    }
    const lb_dist *d = &s->service;
    json_t *svc = json_pack("{s:s}", "dist", lb_dist_name(d->kind));
    switch (d->kind) {
    case LB_DIST_FIXED:
        json_object_set_new(svc, "ms", json_real(d->ms));
        break;
    case LB_DIST_UNIFORM:
        json_object_set_new(svc, "min_ms", json_real(d->min_ms));
        json_object_set_new(svc, "max_ms", json_real(d->max_ms));
        break;
    case LB_DIST_EXPONENTIAL:
        json_object_set_new(svc, "mean_ms", json_real(d->mean_ms));
        if (d->max_ms > 0) json_object_set_new(svc, "max_ms", json_real(d->max_ms));
        break;
    case LB_DIST_LOGNORMAL:
        json_object_set_new(svc, "median_ms", json_real(d->median_ms));
        json_object_set_new(svc, "sigma", json_real(d->sigma));
        if (d->max_ms > 0) json_object_set_new(svc, "max_ms", json_real(d->max_ms));
        break;
    }
    lb_guards g;
    lb_guards_resolve(s, 0, &g);
    json_t *guards = json_pack("{s:I, s:f, s:f}", "tasks", (json_int_t)g.tasks, "wall_ms",
                               g.wall_ms, "memory_auto_share", g.memory_auto_share);
    if (s->guards.memory_auto)
        json_object_set_new(guards, "memory_bytes", json_string("auto"));
    else
        json_object_set_new(guards, "memory_bytes", json_integer(s->guards.memory_bytes));
    json_t *knobs = json_object();
    for (int i = 0; s->scenario && i < s->scenario->n_knobs; i++)
        json_object_set_new(knobs, s->scenario->knobs[i].name, json_real(s->knob[i]));
    json_t *thresholds = json_object();
    for (int i = 0; i < s->n_thresholds; i++)
        json_object_set_new(thresholds, s->thresholds[i].key, json_string(s->thresholds[i].expr));
    json_t *spec =
        json_pack("{s:s, s:o, s:o, s:f, s:f, s:I, s:i, s:I, s:f, s:f, s:f, s:o, s:s, "
                  "s:I, s:i, s:o, s:o}",
                  "scenario", s->scenario ? s->scenario->name : s->name, "load", load,
                  "service_time", svc, "timeout_ms", s->timeout_ms, "error_rate", s->error_rate,
                  "payload_bytes", (json_int_t)s->payload_bytes, "pool_size", s->pool_size,
                  "queue_capacity", (json_int_t)s->queue_capacity, "settle_ms", s->settle_ms,
                  "shutdown_grace_ms", s->shutdown_grace_ms, "sample_ms", s->sample_ms, "guards",
                  guards, "scheduler", rt_sched_name(s->scheduler), "seed", (json_int_t)s->seed,
                  "repetitions", s->repetitions, "knobs", knobs, "thresholds", thresholds);
    /* The entry's own name only when it differs from the pair's, so specs
     * as run read back exactly as they were written. */
    if (spec && s->scenario && strcmp(s->name, s->scenario->name))
        json_object_set_new(spec, "name", json_string(s->name));
    return spec;
}

json_t *lb_scenario_spec_to_json(const lb_scenario_spec *s)
{
    json_t *o = scenario_fields_json(s);
    if (o) add_http_json(o, s);
    if (o && s->target.active) lb_target_spec_as_run(o, s->name, &s->target);
    if (o && s->description[0])
        json_object_set_new(o, "description", json_string(s->description));
    return o;
}
