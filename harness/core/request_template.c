/*
 * request_template.c — compiles and expands request templates (see
 * request_template.h).
 *
 * Compiling is one left-to-right scan: literal runs are copied (with "{{"
 * and "}}" unescaped) into one buffer that the literal segments point
 * into, and each "{name}" becomes a placeholder segment.  The scan first
 * counts the segments, so the segment array is allocated once.
 */
#include "request_template.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const var_names[LB_TPL_VAR_COUNT] = {
    "service_ms", "service_us", "payload_bytes", "error", "seq", "rep", "timeout_ms"};

const char *lb_tpl_var_name(lb_tpl_var v)
{
    return (unsigned)v < LB_TPL_VAR_COUNT ? var_names[v] : "unknown";
}

static int find_var(const char *name, size_t len)
{
    for (int i = 0; i < LB_TPL_VAR_COUNT; i++)
        if (strlen(var_names[i]) == len && !memcmp(var_names[i], name, len)) return i;
    return -1;
}

static int syntax_error(lb_tpl_error *err, size_t pos, const char *fmt, const char *what)
{
    err->pos = pos;
    snprintf(err->text, sizeof err->text, fmt, what);
    return -EINVAL;
}

/* One scan.  With out == NULL it only checks and counts segments. */
static int scan(const char *text, lb_template *out, size_t *n_seg, lb_tpl_error *err)
{
    size_t n = 0, used = 0;
    bool in_literal = false;
    for (size_t i = 0; text[i];) {
        char c = text[i];
        if ((c == '{' && text[i + 1] == '{') || (c == '}' && text[i + 1] == '}')) {
            i += 2; /* an escaped brace: the literal character c */
        } else if (c == '}') {
            return syntax_error(err, i + 1, "%s", "'}' without '{' (write '}}' for a brace)");
        } else if (c == '{') {
            const char *end = strchr(text + i + 1, '}');
            const char *open = strchr(text + i + 1, '{');
            if (!end || (open && open < end))
                return syntax_error(err, i + 1, "%s", "'{' without '}' (write '{{' for a brace)");
            size_t len = (size_t)(end - (text + i + 1));
            int var = find_var(text + i + 1, len);
            if (var < 0) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(len < 48 ? len : 48), text + i + 1);
                char msg[160];
                snprintf(msg, sizeof msg, "unknown placeholder '{%s}' (expected one of:", name);
                size_t at = strlen(msg);
                for (int k = 0; k < LB_TPL_VAR_COUNT; k++)
                    at += (size_t)snprintf(msg + at, sizeof msg - at, " {%s}", var_names[k]);
                snprintf(msg + at, sizeof msg - at, ")");
                return syntax_error(err, i + 1, "%s", msg);
            }
            if (out) out->seg[n] = (lb_tpl_segment){NULL, 0, (lb_tpl_var)var};
            n++;
            in_literal = false;
            i += len + 2;
            continue;
        } else {
            i++;
        }
        /* A literal character c. */
        if (!in_literal) {
            if (out) out->seg[n] = (lb_tpl_segment){out->copy + used, 0, 0};
            n++;
            in_literal = true;
        }
        if (out) {
            out->copy[used] = c;
            out->seg[n - 1].len++;
        }
        used++;
    }
    *n_seg = n;
    return 0;
}

int lb_template_compile(const char *text, lb_template *out, lb_tpl_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    int rc = scan(text, NULL, &n, err);
    if (rc) return rc;
    out->copy = malloc(strlen(text) + 1);
    out->seg = malloc((n ? n : 1) * sizeof *out->seg);
    if (!out->copy || !out->seg) {
        lb_template_free(out);
        return -ENOMEM;
    }
    scan(text, out, &out->n, err);
    return 0;
}

void lb_template_free(lb_template *t)
{
    free(t->copy);
    free(t->seg);
    memset(t, 0, sizeof *t);
}

size_t lb_template_expand(const lb_template *t, const lb_tpl_values *v, char *buf, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < t->n; i++) {
        const lb_tpl_segment *s = &t->seg[i];
        char num[24];
        const char *src = s->text;
        size_t n = s->len;
        if (!src) {
            n = (size_t)snprintf(num, sizeof num, "%" PRId64, v->v[s->var]);
            src = num;
        }
        if (len < cap) memcpy(buf + len, src, n <= cap - len ? n : cap - len);
        len += n;
    }
    return len;
}
