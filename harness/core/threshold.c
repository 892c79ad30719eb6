/*
 * threshold.c — parses and evaluates spec thresholds (grammar in
 * threshold.h).
 *
 * The right-hand side is parsed by recursive descent into a small tree
 * (numbers, VARIANT.METRIC references, unary minus, + - * /) when the
 * spec is loaded, so that a spec error is found then, not after a
 * ten-minute run, and the spec keeps that tree (spec.h): a threshold is
 * never parsed again.  Every error records the 1-based character position
 * where the parser stopped.  Evaluation walks the tree against a results
 * document, looking each reference up with lb_metric_collect() (summary
 * medians), and fails, with a reason, when a value is null or the bound is
 * not finite.  lb_thresholds_apply is the one exception to "parsed once":
 * it re-checks a saved results document, which has only the strings.
 * lb_threshold_verdict_text is the one way a verdict is written for a
 * person (the run's terminal output).
 */
#include "threshold.h"
#include "jsonutil.h"
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXPR_LEN 256
#define MAX_NESTING  32

typedef enum node_kind { N_NUM, N_REF, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV } node_kind;

struct lb_expr {
    node_kind kind;
    double num;          /* N_NUM */
    const char *variant; /* N_REF */
    const lb_metric_def *metric;
    struct lb_expr *lhs, *rhs; /* operators; N_NEG uses lhs */
};

static void expr_free(lb_expr *e)
{
    if (!e) return;
    expr_free(e->lhs);
    expr_free(e->rhs);
    free(e);
}

/* ------------------------------------------------------------ parser -- */

typedef struct parser {
    const char *s; /* the expression */
    size_t i;      /* current index */
    int depth;
    lb_threshold_error *err;
    bool failed, nomem;
} parser;

static void fail_at(parser *p, size_t index, const char *fmt, ...)
{
    if (p->failed) return;
    p->failed = true;
    p->err->in_key = false;
    p->err->pos = index + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
}

/* Describes the character at i for messages. */
static const char *found(const parser *p, size_t i, char *buf, size_t len)
{
    unsigned char c = (unsigned char)p->s[i];
    if (!c)
        snprintf(buf, len, "end of expression");
    else if (isprint(c))
        snprintf(buf, len, "'%c'", c);
    else
        snprintf(buf, len, "byte 0x%02x", c);
    return buf;
}

static void skip_ws(parser *p)
{
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t') p->i++;
}

static lb_expr *node(parser *p, node_kind kind)
{
    lb_expr *e = calloc(1, sizeof *e);
    if (!e) {
        p->failed = p->nomem = true;
        return NULL;
    }
    e->kind = kind;
    return e;
}

static lb_expr *parse_expr(parser *p);

static bool is_ident_start(char c)
{
    return c == '_' || isalpha((unsigned char)c);
}
static bool is_ident(char c)
{
    return c == '_' || isalnum((unsigned char)c);
}

/* Resolves "variant.metric" spanning s[start .. start+len) into *variant
 * and *metric, or reports the problem with its position (relative to
 * base_index, so keys and expressions share the code). */
static bool resolve_ref(const char *s, size_t start, size_t len, size_t base_index,
                        const char **variant, const lb_metric_def **metric, lb_threshold_error *err)
{
    const char *dot = memchr(s + start, '.', len);
    size_t vlen = dot ? (size_t)(dot - (s + start)) : len;
    for (size_t i = 0; i < 2; i++)
        if (strlen(lb_variants[i]) == vlen && !strncmp(lb_variants[i], s + start, vlen))
            *variant = lb_variants[i];
    if (!*variant || vlen == 0) {
        err->pos = base_index + start + 1;
        snprintf(err->msg, sizeof err->msg,
                 "unknown variant '%.*s' (a reference is VARIANT.METRIC, VARIANT leaky or "
                 "graceful)",
                 (int)vlen, s + start);
        *variant = NULL;
        return false;
    }
    if (!dot) {
        err->pos = base_index + start + vlen + 1;
        snprintf(err->msg, sizeof err->msg, "expected '.' and a metric name after '%.*s'",
                 (int)vlen, s + start);
        return false;
    }
    size_t mstart = start + vlen + 1, mlen = len - vlen - 1;
    *metric = lb_metric_find(s + mstart, mlen);
    if (!*metric) {
        err->pos = base_index + mstart + 1;
        const char *hint = lb_metric_suggest(s + mstart, mlen);
        if (lb_metric_rename_note(s + mstart, mlen, err->msg, sizeof err->msg))
            ; /* "peak_rss_mb was renamed peak_rss_mib (MiB)" */
        else if (mlen == 0)
            snprintf(err->msg, sizeof err->msg, "expected a metric name after '.'");
        else if (hint)
            snprintf(err->msg, sizeof err->msg, "unknown metric '%.*s' (did you mean '%s'?)",
                     (int)mlen, s + mstart, hint);
        else
            snprintf(err->msg, sizeof err->msg,
                     "unknown metric '%.*s' (known metrics include peak_tasks, leaked_tasks, "
                     "recovery_ms, recovered, peak_rss_mib, latency_p99_ms)",
                     (int)mlen, s + mstart);
        return false;
    }
    return true;
}

static lb_expr *parse_primary(parser *p)
{
    char what[32];
    skip_ws(p);
    size_t start = p->i;
    char c = p->s[p->i];
    if (c == '.' && isdigit((unsigned char)p->s[p->i + 1])) {
        fail_at(p, p->i, "a number starts with a digit (write 0%.*s)", 8, p->s + p->i);
        return NULL;
    }
    if (isdigit((unsigned char)c)) {
        /* number: digits [. digits] [e [+-] digits] */
        while (isdigit((unsigned char)p->s[p->i])) p->i++;
        if (p->s[p->i] == '.') {
            p->i++;
            if (!isdigit((unsigned char)p->s[p->i])) {
                fail_at(p, p->i, "expected a digit after '.', found %s",
                        found(p, p->i, what, sizeof what));
                return NULL;
            }
            while (isdigit((unsigned char)p->s[p->i])) p->i++;
        }
        if (p->s[p->i] == 'e' || p->s[p->i] == 'E') {
            p->i++;
            if (p->s[p->i] == '+' || p->s[p->i] == '-') p->i++;
            if (!isdigit((unsigned char)p->s[p->i])) {
                fail_at(p, p->i, "expected the exponent's digits, found %s",
                        found(p, p->i, what, sizeof what));
                return NULL;
            }
            while (isdigit((unsigned char)p->s[p->i])) p->i++;
        }
        if (is_ident(p->s[p->i]) || p->s[p->i] == '.') {
            fail_at(p, p->i, "unexpected %s in a number", found(p, p->i, what, sizeof what));
            return NULL;
        }
        char buf[MAX_EXPR_LEN + 1];
        memcpy(buf, p->s + start, p->i - start);
        buf[p->i - start] = 0;
        double v = strtod(buf, NULL);
        if (!isfinite(v)) {
            fail_at(p, start, "number out of range");
            return NULL;
        }
        lb_expr *e = node(p, N_NUM);
        if (e) e->num = v;
        return e;
    }
    if (is_ident_start(c)) {
        while (is_ident(p->s[p->i]) || p->s[p->i] == '.') p->i++;
        lb_expr *e = node(p, N_REF);
        if (!e) return NULL;
        lb_threshold_error err = {0};
        if (!resolve_ref(p->s, start, p->i - start, 0, &e->variant, &e->metric, &err)) {
            fail_at(p, err.pos - 1, "%s", err.msg);
            free(e);
            return NULL;
        }
        return e;
    }
    if (c == '(') {
        if (++p->depth > MAX_NESTING) {
            fail_at(p, p->i, "parentheses nested deeper than %d", MAX_NESTING);
            return NULL;
        }
        p->i++;
        lb_expr *e = parse_expr(p);
        if (!e) return NULL;
        skip_ws(p);
        if (p->s[p->i] != ')') {
            fail_at(p, p->i, "expected ')' to close the '(' at character %zu, found %s", start + 1,
                    found(p, p->i, what, sizeof what));
            expr_free(e);
            return NULL;
        }
        p->i++;
        p->depth--;
        return e;
    }
    fail_at(p, p->i, "expected a number, VARIANT.METRIC or '(', found %s",
            found(p, p->i, what, sizeof what));
    return NULL;
}

static lb_expr *parse_unary(parser *p)
{
    skip_ws(p);
    char c = p->s[p->i];
    if (c == '-' || c == '+') {
        if (++p->depth > MAX_NESTING) {
            fail_at(p, p->i, "too many signs in a row");
            return NULL;
        }
        p->i++;
        lb_expr *inner = parse_unary(p);
        p->depth--;
        if (!inner || c == '+') return inner;
        lb_expr *e = node(p, N_NEG);
        if (!e) {
            expr_free(inner);
            return NULL;
        }
        e->lhs = inner;
        return e;
    }
    return parse_primary(p);
}

static lb_expr *binary(parser *p, node_kind kind, lb_expr *lhs, lb_expr *rhs)
{
    if (!rhs) {
        expr_free(lhs);
        return NULL;
    }
    lb_expr *e = node(p, kind);
    if (!e) {
        expr_free(lhs);
        expr_free(rhs);
        return NULL;
    }
    e->lhs = lhs;
    e->rhs = rhs;
    return e;
}

static lb_expr *parse_term(parser *p)
{
    lb_expr *e = parse_unary(p);
    while (e) {
        skip_ws(p);
        char c = p->s[p->i];
        if (c != '*' && c != '/') break;
        p->i++;
        e = binary(p, c == '*' ? N_MUL : N_DIV, e, parse_unary(p));
    }
    return e;
}

static lb_expr *parse_expr(parser *p)
{
    lb_expr *e = parse_term(p);
    while (e) {
        skip_ws(p);
        char c = p->s[p->i];
        if (c != '+' && c != '-') break;
        p->i++;
        e = binary(p, c == '+' ? N_ADD : N_SUB, e, parse_term(p));
    }
    return e;
}

int lb_metric_ref_parse(const char *ref, const char **variant, const lb_metric_def **metric,
                        lb_threshold_error *err)
{
    memset(err, 0, sizeof *err);
    err->in_key = true;
    *variant = NULL;
    *metric = NULL;
    for (size_t i = 0; ref[i]; i++) {
        if (!is_ident(ref[i]) && ref[i] != '.') {
            err->pos = i + 1;
            snprintf(err->msg, sizeof err->msg, "unexpected '%c' (expected VARIANT.METRIC)",
                     isprint((unsigned char)ref[i]) ? ref[i] : '?');
            return -EINVAL;
        }
    }
    return resolve_ref(ref, 0, strlen(ref), 0, variant, metric, err) ? 0 : -EINVAL;
}

static const char *const op_names[] = {"<", "<=", ">", ">=", "==", "!="};
const char *lb_threshold_op_name(lb_threshold_op op)
{
    return op_names[op];
}

int lb_threshold_parse(const char *key, const char *expr, lb_threshold *out,
                       lb_threshold_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);

    /* The key: VARIANT.METRIC, nothing else. */
    err->in_key = true;
    size_t klen = strlen(key);
    for (size_t i = 0; i < klen; i++) {
        if (!is_ident(key[i]) && key[i] != '.') {
            err->pos = i + 1;
            snprintf(err->msg, sizeof err->msg,
                     "unexpected '%c' in a key (a key is VARIANT.METRIC, e.g. graceful.peak_tasks)",
                     isprint((unsigned char)key[i]) ? key[i] : '?');
            return -EINVAL;
        }
    }
    if (!resolve_ref(key, 0, klen, 0, &out->variant, &out->metric, err)) return -EINVAL;
    if (strchr(key + strlen(out->variant) + 1, '.')) {
        err->pos = (size_t)(strrchr(key, '.') - key) + 1;
        snprintf(err->msg, sizeof err->msg, "a key has exactly one '.'");
        return -EINVAL;
    }

    /* The expression: op, then the bound. */
    err->in_key = false;
    parser p = {.s = expr, .err = err};
    if (strlen(expr) > MAX_EXPR_LEN) {
        err->pos = MAX_EXPR_LEN + 1;
        snprintf(err->msg, sizeof err->msg, "expression longer than %d characters", MAX_EXPR_LEN);
        return -EINVAL;
    }
    skip_ws(&p);
    const char *s = expr + p.i;
    int op = -1;
    size_t oplen = 0;
    if (s[0] == '<' && s[1] == '=')
        op = LB_OP_LE, oplen = 2;
    else if (s[0] == '>' && s[1] == '=')
        op = LB_OP_GE, oplen = 2;
    else if (s[0] == '=' && s[1] == '=')
        op = LB_OP_EQ, oplen = 2;
    else if (s[0] == '!' && s[1] == '=')
        op = LB_OP_NE, oplen = 2;
    else if (s[0] == '<')
        op = LB_OP_LT, oplen = 1;
    else if (s[0] == '>')
        op = LB_OP_GT, oplen = 1;
    if (op < 0) {
        char what[32];
        fail_at(&p, p.i, "expected a comparison (<, <=, >, >=, ==, !=), found %s%s",
                found(&p, p.i, what, sizeof what), s[0] == '=' ? " (equality is '==')" : "");
        return -EINVAL;
    }
    p.i += oplen;
    if (expr[p.i] == '=' || expr[p.i] == '<' || expr[p.i] == '>') {
        fail_at(&p, p.i, "unexpected '%c' after '%s'", expr[p.i], op_names[op]);
        return -EINVAL;
    }
    lb_expr *bound = parse_expr(&p);
    if (bound) {
        skip_ws(&p);
        if (expr[p.i]) {
            char what[32];
            fail_at(&p, p.i, "expected an operator (+ - * /) or the end, found %s",
                    found(&p, p.i, what, sizeof what));
            expr_free(bound);
            return -EINVAL;
        }
    }
    if (!bound) return p.nomem ? -ENOMEM : -EINVAL;
    out->op = (lb_threshold_op)op;
    out->bound = bound;
    out->key = strdup(key);
    out->expr = strdup(expr);
    if (!out->key || !out->expr) {
        lb_threshold_free(out);
        return -ENOMEM;
    }
    return 0;
}

void lb_threshold_free(lb_threshold *t)
{
    expr_free(t->bound);
    free(t->key);
    free(t->expr);
    memset(t, 0, sizeof *t);
}

/* "key \"K\", character N: why" or "expression \"E\", character N: why".
 * A long key or expression is quoted only around the error (up to 30
 * characters either side, with "..."), so the reason always fits. */
static void format_error(const lb_threshold_error *err, const char *key, const char *expr,
                         char *msg, size_t len)
{
    const char *text = err->in_key ? key : expr;
    size_t n = strlen(text), from = 0, to = n;
    if (n > 64) {
        from = err->pos > 31 ? err->pos - 31 : 0;
        to = from + 60 < n ? from + 60 : n;
    }
    snprintf(msg, len, "%s \"%s%.*s%s\", character %zu: %s", err->in_key ? "key" : "expression",
             from ? "..." : "", (int)(to - from), text + from, to < n ? "..." : "", err->pos,
             err->msg);
}

int lb_threshold_check(const char *key, const char *expr, lb_threshold *out, char *msg, size_t len)
{
    lb_threshold t;
    lb_threshold_error err;
    int rc = lb_threshold_parse(key, expr, &t, &err);
    if (rc == 0) {
        if (out)
            *out = t;
        else
            lb_threshold_free(&t);
        return 0;
    }
    if (rc == -EINVAL)
        format_error(&err, key, expr, msg, len);
    else
        snprintf(msg, len, "out of memory");
    return rc;
}

/* Appends JSON-path-quoted key to buf: ["graceful.peak_tasks"]. */
static void quoted_key(char *buf, size_t len, const char *key)
{
    size_t o = 0;
    if (len < 8) return;
    buf[o++] = '[';
    buf[o++] = '"';
    for (const char *c = key; *c && o + 6 < len; c++) {
        if (*c == '"' || *c == '\\') buf[o++] = '\\';
        buf[o++] = isprint((unsigned char)*c) ? *c : '?';
    }
    buf[o++] = '"';
    buf[o++] = ']';
    buf[o] = 0;
}

int lb_thresholds_parse(const json_t *obj, const char *file, const char *json_path,
                        lb_threshold_set *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!obj || json_is_null(obj)) return 0;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "%s: %s: expected an object of \"VARIANT.METRIC\": \"OP BOUND\"",
                 file, json_path);
        return -EINVAL;
    }
    size_t n = json_object_size(obj);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) return -ENOMEM;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        char qk[160];
        quoted_key(qk, sizeof qk, key);
        if (!json_is_string(value)) {
            snprintf(err, errlen,
                     "%s: %s%s: expected a string such as \"<= 150\" or \"== 0\", found %s", file,
                     json_path, qk,
                     json_is_number(value) ? "a number (write the comparison: \"<= N\")"
                                           : "another type");
            lb_thresholds_free(out);
            return -EINVAL;
        }
        lb_threshold_error perr;
        int rc = lb_threshold_parse(key, json_string_value(value), &out->items[out->n], &perr);
        if (rc == -ENOMEM) {
            lb_thresholds_free(out);
            return rc;
        }
        if (rc) {
            char why[512];
            format_error(&perr, key, json_string_value(value), why, sizeof why);
            snprintf(err, errlen, "%s: %s%s: %s", file, json_path, qk, why);
            lb_thresholds_free(out);
            return -EINVAL;
        }
        out->n++;
    }
    return 0;
}

void lb_thresholds_free(lb_threshold_set *set)
{
    for (size_t i = 0; i < set->n; i++) lb_threshold_free(&set->items[i]);
    free(set->items);
    memset(set, 0, sizeof *set);
}

int lb_thresholds_check_spec(const json_t *spec, const char *file, char *err, size_t errlen)
{
    lb_threshold_set set;
    int rc = lb_thresholds_parse(json_object_get(spec, "thresholds"), file, "$.thresholds", &set,
                                 err, errlen);
    if (rc) return rc;
    lb_thresholds_free(&set);
    const json_t *scenarios = json_object_get(spec, "scenarios");
    for (size_t i = 0; i < json_array_size(scenarios); i++) {
        char path[64];
        snprintf(path, sizeof path, "$.scenarios[%zu].thresholds", i);
        rc = lb_thresholds_parse(json_object_get(json_array_get(scenarios, i), "thresholds"), file,
                                 path, &set, err, errlen);
        if (rc) return rc;
        lb_thresholds_free(&set);
    }
    return 0;
}

/* -------------------------------------------------------- evaluation -- */

/* Evaluates e; false with reason filled when a reference is null. */
static bool expr_eval(const lb_expr *e, const json_t *scenario, double *v, char *reason, size_t len,
                      int *nomem)
{
    double a, b;
    switch (e->kind) {
    case N_NUM:
        *v = e->num;
        return true;
    case N_REF: {
        lb_metric_values mv;
        if (lb_metric_collect(scenario, e->variant, e->metric, &mv)) {
            *nomem = 1;
            return false;
        }
        bool ok = mv.has_median;
        if (!mv.present)
            snprintf(reason, len, "bound refers to %s.%s but there are no %s runs", e->variant,
                     e->metric->name, e->variant);
        else if (!ok)
            snprintf(reason, len, "bound refers to %s.%s, which is null (not measured: %s)",
                     e->variant, e->metric->name, e->metric->help);
        *v = mv.median;
        lb_metric_values_free(&mv);
        return ok;
    }
    case N_NEG:
        if (!expr_eval(e->lhs, scenario, &a, reason, len, nomem)) return false;
        *v = -a;
        return true;
    default:
        if (!expr_eval(e->lhs, scenario, &a, reason, len, nomem) ||
            !expr_eval(e->rhs, scenario, &b, reason, len, nomem))
            return false;
        *v = e->kind == N_ADD ? a + b : e->kind == N_SUB ? a - b : e->kind == N_MUL ? a * b : a / b;
        return true;
    }
}

static bool compare(lb_threshold_op op, double value, double bound)
{
    switch (op) {
    case LB_OP_LT:
        return value < bound;
    case LB_OP_LE:
        return value <= bound;
    case LB_OP_GT:
        return value > bound;
    case LB_OP_GE:
        return value >= bound;
    case LB_OP_EQ:
        return value == bound;
    case LB_OP_NE:
        return value != bound;
    }
    return false;
}

int lb_thresholds_evaluate(const lb_threshold *items, size_t n, const json_t *scenario, json_t *out,
                           size_t *n_failed)
{
    const char *name = json_string_value(json_object_get(scenario, "name"));
    for (size_t i = 0; i < n; i++) {
        const lb_threshold *t = &items[i];
        char reason[300] = "";
        int nomem = 0;
        lb_metric_values mv;
        if (lb_metric_collect(scenario, t->variant, t->metric, &mv)) return -ENOMEM;
        double value = mv.median, bound = NAN;
        bool have_bound = expr_eval(t->bound, scenario, &bound, reason, sizeof reason, &nomem);
        if (nomem) {
            lb_metric_values_free(&mv);
            return -ENOMEM;
        }
        bool pass = false;
        if (!mv.present)
            snprintf(reason, sizeof reason, "no %s runs in this scenario", t->variant);
        else if (!mv.has_median)
            snprintf(reason, sizeof reason, "%s is null (not measured: %s)", t->key,
                     t->metric->help);
        else if (!have_bound)
            ; /* reason set by expr_eval */
        else if (!isfinite(bound))
            snprintf(reason, sizeof reason, "bound %s is not a finite number (division by zero?)",
                     t->expr);
        else if (!(pass = compare(t->op, value, bound)))
            snprintf(reason, sizeof reason, "%s = %.10g, not %s %.10g", t->key, value,
                     op_names[t->op], bound);
        lb_metric_values_free(&mv);

        json_t *entry = json_pack(
            "{s:s?, s:s, s:s, s:o, s:o, s:s, s:s, s:I}", "scenario", name, "metric", t->key, "expr",
            t->expr, "value", mv.has_median ? json_real(value) : json_null(), "bound",
            have_bound && isfinite(bound) ? json_real(bound) : json_null(), "verdict",
            pass ? "pass" : "fail", "reason", reason, "n", (json_int_t)mv.n);
        if (!entry || json_array_append_new(out, entry)) return -ENOMEM;
        if (!pass) ++*n_failed;
    }
    return 0;
}

char *lb_threshold_verdict_text(const json_t *verdict, char *buf, size_t len)
{
    const char *metric = lb_jstr(verdict, "metric"), *expr = lb_jstr(verdict, "expr"),
               *reason = lb_jstr(verdict, "reason"), *result = lb_jstr(verdict, "verdict");
    const json_t *value = json_object_get(verdict, "value"),
                 *bound = json_object_get(verdict, "bound");
    if (!metric) metric = "?";
    if (!expr) expr = "";
    if (!json_is_number(value) || !json_is_number(bound)) {
        snprintf(buf, len, "%s %s%s%s", metric, expr, reason && *reason ? ": " : "",
                 reason ? reason : "");
        return buf;
    }
    /* The rule as written is the operator, then the bound's expression. */
    const char *p = expr + strspn(expr, " \t");
    size_t op_len = strspn(p, "<>=!");
    char op[8], bound_expr[200];
    snprintf(op, sizeof op, "%.*s", (int)op_len, p);
    p += op_len + strspn(p + op_len, " \t");
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1])) n--;
    snprintf(bound_expr, sizeof bound_expr, "%.*s", (int)n, p);

    double v = json_number_value(value), b = json_number_value(bound), literal;
    char vt[LB_UNITS_LEN], bt[LB_UNITS_LEN], shown[220] = "", exact[80] = "";
    lb_metric_format_ref(metric, v, vt, sizeof vt);
    lb_metric_format_ref(metric, b, bt, sizeof bt);
    if (!lb_scan_decimal(bound_expr, &literal)) snprintf(shown, sizeof shown, " (%s)", bound_expr);
    if (!strcmp(vt, bt) && v != b)
        snprintf(exact, sizeof exact, " (exactly %.10g %s %.10g)", v, op, b);
    bool pass = result && !strcmp(result, "pass");
    snprintf(buf, len, "%s %s%s %s %s%s%s", metric, vt, pass ? "" : ", not", op, bt, shown, exact);
    return buf;
}

/* The thresholds that apply to results scenario number i, and the JSON
 * path to name them by: the scenario's own "spec" as run (what `leakbench
 * run` writes), else the entry of results "spec"."scenarios" whose "name"
 * or "scenario" matches. */
static const json_t *scenario_thresholds(const json_t *spec, const json_t *scenario, size_t i,
                                         char *path, size_t len)
{
    const json_t *own = json_object_get(json_object_get(scenario, "spec"), "thresholds");
    if (own) {
        snprintf(path, len, "$.scenarios[%zu].spec.thresholds", i);
        return own;
    }
    const char *name = json_string_value(json_object_get(scenario, "name"));
    const json_t *list = json_object_get(spec, "scenarios");
    for (size_t k = 0; name && k < json_array_size(list); k++) {
        const json_t *s = json_array_get(list, k);
        const char *n = json_string_value(json_object_get(s, "name"));
        if (!n) n = json_string_value(json_object_get(s, "scenario"));
        if (n && !strcmp(n, name)) {
            snprintf(path, len, "$.spec.scenarios[%zu].thresholds", k);
            return json_object_get(s, "thresholds");
        }
    }
    return NULL;
}

int lb_thresholds_apply(json_t *results, size_t *n_failed, char *err, size_t errlen)
{
    const json_t *spec = json_object_get(results, "spec");
    const char *file = json_string_value(json_object_get(spec, "path"));
    if (!file) file = "results";
    *n_failed = 0;
    lb_threshold_set global;
    int rc = lb_thresholds_parse(json_object_get(spec, "thresholds"), file, "$.spec.thresholds",
                                 &global, err, errlen);
    if (rc) return rc;
    json_t *verdicts = json_array();
    if (!verdicts) rc = -ENOMEM;
    const json_t *scenarios = json_object_get(results, "scenarios");
    for (size_t i = 0; !rc && i < json_array_size(scenarios); i++) {
        const json_t *scenario = json_array_get(scenarios, i);
        rc = lb_thresholds_evaluate(global.items, global.n, scenario, verdicts, n_failed);
        char path[80];
        const json_t *own = scenario_thresholds(spec, scenario, i, path, sizeof path);
        if (!rc && own) {
            lb_threshold_set local;
            rc = lb_thresholds_parse(own, file, path, &local, err, errlen);
            if (!rc)
                rc = lb_thresholds_evaluate(local.items, local.n, scenario, verdicts, n_failed);
            lb_thresholds_free(&local);
        }
    }
    lb_thresholds_free(&global);
    if (rc) {
        json_decref(verdicts);
        return rc;
    }
    return json_object_set_new(results, "thresholds", verdicts) ? -ENOMEM : 0;
}
