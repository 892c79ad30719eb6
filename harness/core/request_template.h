/*
 * request_template.h — text with per-request placeholders, such as the
 * path, headers and body of the HTTP requests a load sends.
 *
 * A template is literal text with placeholders in braces: "{seq}" is
 * replaced by the request's sequence number, "{{" and "}}" stand for a
 * literal brace.  The placeholders are a fixed set (lb_tpl_var); any other
 * name, an unclosed '{' or a lone '}' is an error reported with its
 * character position, so the spec loader can point at it
 * ("$.request.path: unknown placeholder '{sequence}' at character 14").
 * Compiling splits the text once into literal and placeholder segments;
 * expanding one request is then a walk over the segments that formats
 * integers, without parsing or allocating.
 */
#ifndef LEAKBENCH_REQUEST_TEMPLATE_H
#define LEAKBENCH_REQUEST_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum lb_tpl_var {
    LB_TPL_SERVICE_MS = 0, /* the drawn service time, whole milliseconds (rounded) */
    LB_TPL_SERVICE_US,     /* the same in microseconds */
    LB_TPL_PAYLOAD_BYTES,  /* payload_bytes */
    LB_TPL_ERROR,          /* 1 when drawn with error_rate, else 0 */
    LB_TPL_SEQ,            /* 0, 1, 2 ... in the order the requests are sent */
    LB_TPL_REP,            /* the repetition */
    LB_TPL_TIMEOUT_MS,     /* the client timeout */
    LB_TPL_VAR_COUNT
} lb_tpl_var;
const char *lb_tpl_var_name(lb_tpl_var v); /* "service_ms", ... */

/* One request's values, indexed by lb_tpl_var. */
typedef struct lb_tpl_values {
    int64_t v[LB_TPL_VAR_COUNT];
} lb_tpl_values;

typedef struct lb_tpl_segment {
    const char *text; /* literal: points into the template's copy; NULL for a placeholder */
    size_t len;
    lb_tpl_var var;
} lb_tpl_segment;

typedef struct lb_template {
    char *copy; /* the literal text, braces unescaped */
    lb_tpl_segment *seg;
    size_t n;
} lb_template;

/* Why a template does not compile: a message and the 1-based character
 * position in the text it points at. */
typedef struct lb_tpl_error {
    size_t pos;
    char text[192];
} lb_tpl_error;

/* 0; -EINVAL with err filled (bad placeholder syntax or name); -ENOMEM. */
int lb_template_compile(const char *text, lb_template *out, lb_tpl_error *err);
void lb_template_free(lb_template *t);

/* Expands t into buf (cap bytes, not NUL-terminated) and returns the
 * length of the expansion; when that is more than cap, buf holds only a
 * prefix and the caller retries with a buffer that large. */
size_t lb_template_expand(const lb_template *t, const lb_tpl_values *v, char *buf, size_t cap);

#endif
